from __future__ import annotations

from customer import contract


def test_every_event_goes_out_on_the_subject_its_consumers_know() -> None:
    """Each published event's subject is the literal one on the wire today: renaming a class cannot move it."""
    assert contract.CustomerRegistered.message_subject == "customer.events.customer-registered"
    assert contract.AddressAdded.message_subject == "customer.events.address-added"


def test_the_owned_stream_takes_every_event() -> None:
    """CUSTOMER_EVENTS is the customer service's stream, and it takes the subject of each event it publishes."""
    assert contract.EVENTS.name == "CUSTOMER_EVENTS"
    assert contract.EVENTS.subjects == ["customer.events.>"]
