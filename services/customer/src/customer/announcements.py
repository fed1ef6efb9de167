"""What the customer service announces: each domain fact as its contract event, in the outbox of the
transaction that made it, so that it is published if and only if the change commits."""

from __future__ import annotations

from typing import assert_never

from paved.messaging import Event

from customer import contract, domain


def published(fact: domain.Fact) -> tuple[Event, str]:
    """The event that announces ``fact``, and the subject it goes out on."""
    match fact:
        case domain.CustomerRegistered():
            registered = contract.CustomerRegistered(
                customer_id=fact.customer_id,
                display_name=fact.contact.display_name,
                email=fact.contact.email,
                registered_at=fact.at,
            )
            return registered, contract.CUSTOMER_REGISTERED_SUBJECT
        case domain.AddressAdded():
            added = contract.AddressAdded(
                customer_id=fact.customer_id, address_id=fact.address_id, country=fact.country, added_at=fact.at
            )
            return added, contract.ADDRESS_ADDED_SUBJECT
        case _:
            assert_never(fact)
