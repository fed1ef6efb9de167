from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.domain import Album, InvalidPriceError, Money, PriceChanged

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

KIND_OF_BLUE_PRICE = Money(1299, "GBP")


def album(price: Money = KIND_OF_BLUE_PRICE) -> Album:
    return Album(sku="ALB-00001", title="Kind of Blue", artist="Miles Davis", genre="Jazz", released=1959, price=price)


def test_changing_the_price_records_what_changed() -> None:
    """A price change takes effect and records a PriceChanged fact with old and new prices."""
    kind_of_blue = album()
    kind_of_blue.change_price(Money(999, "GBP"), at=AT)
    assert kind_of_blue.price == Money(999, "GBP")
    [fact] = kind_of_blue.facts
    assert isinstance(fact, PriceChanged)
    assert (fact.old_price, fact.new_price, fact.changed_at) == (Money(1299, "GBP"), Money(999, "GBP"), AT)


def test_the_same_price_again_records_nothing() -> None:
    """Setting the price it already has is not a change."""
    kind_of_blue = album()
    kind_of_blue.change_price(Money(1299, "GBP"), at=AT)
    assert kind_of_blue.facts == []


@pytest.mark.parametrize(
    ("price", "message"),
    [(Money(0, "GBP"), "more than zero"), (Money(-5, "GBP"), "more than zero"), (Money(999, "EUR"), "priced in GBP")],
)
def test_unsellable_prices_are_refused(price: Money, message: str) -> None:
    """Free, negative and other-currency prices are refused and leave the album as it was."""
    kind_of_blue = album()
    with pytest.raises(InvalidPriceError, match=message):
        kind_of_blue.change_price(price, at=AT)
    assert kind_of_blue.price == Money(1299, "GBP")
    assert kind_of_blue.facts == []


def test_a_currency_must_be_an_iso_code() -> None:
    """Money refuses a currency that is not three capital letters."""
    with pytest.raises(InvalidPriceError, match="ISO 4217"):
        Money(100, "pounds")


def test_an_album_cannot_be_created_free() -> None:
    """The rule on prices holds from creation, not only on change."""
    with pytest.raises(InvalidPriceError):
        album(Money(0, "GBP"))
