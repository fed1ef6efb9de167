"""What the catalog announces: each domain fact as its contract event, for paved's ``Announcer``."""

from __future__ import annotations

from catalog import contract, domain


def _price(money: domain.Money) -> contract.Price:
    return contract.Price(amount_minor=money.amount_minor, currency=money.currency)


def event_of(fact: domain.PriceChanged) -> contract.PriceChanged:
    """The event that announces ``fact``."""
    return contract.PriceChanged(
        sku=fact.sku, old_price=_price(fact.old_price), new_price=_price(fact.new_price), changed_at=fact.changed_at
    )
