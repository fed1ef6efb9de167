"""Albums and their prices: the catalog's rules, with no I/O and no framework."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

CURRENCY = re.compile(r"^[A-Z]{3}$")


class CatalogError(Exception):
    """A rule of the catalog was broken."""


class AlbumNotFoundError(CatalogError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"no album has the stock-keeping id {sku!r}")


class SkuAlreadyExistsError(CatalogError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"an album with the stock-keeping id {sku!r} already exists")


class InvalidPriceError(CatalogError):
    """A price that cannot be charged."""


@dataclass(frozen=True)
class Money:
    """An amount in minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not CURRENCY.match(self.currency):
            raise InvalidPriceError(f"currency {self.currency!r} is not an ISO 4217 code such as 'GBP'")


@dataclass(frozen=True)
class AlbumFilter:
    """Which albums a browser wants: an exact genre (any case), part of the artist, part of title or artist."""

    genre: str | None = None
    artist: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class PriceChanged:
    """The price of an album changed (announced as the contract's PriceChanged, through the outbox)."""

    sku: str
    old_price: Money
    new_price: Money
    changed_at: datetime


def _check_sellable(price: Money) -> None:
    if price.amount_minor <= 0:
        raise InvalidPriceError(f"a price must be more than zero, not {price.amount_minor}")


@dataclass
class Album:
    """One album the shop sells, identified by its stock-keeping id."""

    sku: str
    title: str
    artist: str
    genre: str
    released: int
    price: Money
    facts: list[PriceChanged] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_sellable(self.price)

    def change_price(self, new_price: Money, *, at: datetime) -> None:
        """Charge ``new_price`` from now on; the currency of an album never changes."""
        _check_sellable(new_price)
        if new_price.currency != self.price.currency:
            raise InvalidPriceError(f"{self.sku} is priced in {self.price.currency}, not {new_price.currency}")
        if new_price == self.price:
            return
        self.facts.append(PriceChanged(self.sku, self.price, new_price, at))
        self.price = new_price

    def describe(self, *, title: str, artist: str, genre: str, released: int) -> None:
        """Correct what the album is (not its price, which changes through ``change_price``)."""
        self.title, self.artist, self.genre, self.released = title, artist, genre, released
