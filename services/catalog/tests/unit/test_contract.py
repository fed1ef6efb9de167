from __future__ import annotations

from catalog import contract


def test_every_event_goes_out_on_the_subject_its_consumers_know() -> None:
    """Each published event's subject is the literal one on the wire today: renaming a class cannot move it."""
    assert contract.PriceChanged.message_subject == "catalog.events.price-changed"


def test_the_owned_stream_takes_every_event() -> None:
    """CATALOG_EVENTS is the catalog's stream, and it takes the subject of each event the catalog publishes."""
    assert contract.EVENTS.name == "CATALOG_EVENTS"
    assert contract.EVENTS.subjects == ["catalog.events.>"]
