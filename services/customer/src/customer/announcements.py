"""What the customer service announces: each domain fact as its contract event, for paved's ``Announcer``."""

from __future__ import annotations

from typing import assert_never

from paved.messaging import Event

from customer import contract, domain


def event_of(fact: domain.Fact) -> Event:
    """The event that announces ``fact``."""
    match fact:
        case domain.CustomerRegistered():
            return contract.CustomerRegistered(
                customer_id=fact.customer_id,
                display_name=fact.contact.display_name,
                email=fact.contact.email,
                registered_at=fact.at,
            )
        case domain.AddressAdded():
            return contract.AddressAdded(
                customer_id=fact.customer_id, address_id=fact.address_id, country=fact.country, added_at=fact.at
            )
        case _:
            assert_never(fact)
