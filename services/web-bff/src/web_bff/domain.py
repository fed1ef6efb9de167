"""What the storefront's pages show, worked out from what the services answered: pure, no I/O, no framework.

The BFF owns no business rules of the shop (prices are the catalog's, orders order's); what it owns is
how their answers read on a page: a stock level as availability, a basket as priced lines and a total,
an order's status as steps of progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# Below this many units a product card says "only n left".
LOW_STOCK_BELOW = 5

# An order's way through fulfilment, as order reports it; "rejected" and "cancelled" end it early.
ORDER_STEPS = ("placed", "stock_reserved", "paid", "dispatched")
STATUS_LABELS = {
    "placed": "Order placed",
    "stock_reserved": "Stock reserved",
    "paid": "Payment taken",
    "dispatched": "Dispatched",
    "rejected": "Rejected",
    "cancelled": "Cancelled",
}
# order cancels until the payment is taken.
CANCELLABLE = frozenset({"placed", "stock_reserved"})


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def times(self, quantity: int) -> Money:
        return Money(self.amount_minor * quantity, self.currency)


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN = "unknown"  # the warehouse did not answer in time: the page shows the product anyway


def availability_of(available: int | None) -> Availability:
    """How a stock level reads on the page; None when the warehouse's answer is missing."""
    if available is None:
        return Availability.UNKNOWN
    if available <= 0:
        return Availability.OUT_OF_STOCK
    if available < LOW_STOCK_BELOW:
        return Availability.LOW_STOCK
    return Availability.IN_STOCK


@dataclass(frozen=True)
class Album:
    """An album as the catalog prices it now."""

    sku: str
    title: str
    artist: str
    price: Money


@dataclass(frozen=True)
class BasketLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    album: Album
    quantity: int

    @property
    def total(self) -> Money:
        return self.album.price.times(self.quantity)


@dataclass(frozen=True)
class PricedBasket:
    """The basket's lines at today's prices; SKUs the catalog no longer has are listed apart."""

    lines: tuple[PricedLine, ...]
    unknown_skus: tuple[str, ...]
    total: Money | None  # None when no line could be priced


class MixedCurrenciesError(Exception):
    """The basket's albums are priced in more than one currency, so they have no one total."""


def price_basket(lines: Sequence[BasketLine], albums: Mapping[str, Album]) -> PricedBasket:
    """Price each line at its album's price; a line whose SKU is not in ``albums`` is unknown."""
    priced = tuple(PricedLine(albums[line.sku], line.quantity) for line in lines if line.sku in albums)
    unknown = tuple(line.sku for line in lines if line.sku not in albums)
    currencies = sorted({line.album.price.currency for line in priced})
    if len(currencies) > 1:
        raise MixedCurrenciesError(f"the basket's albums are priced in {', '.join(currencies)}: order them apart")
    if not priced:
        return PricedBasket(lines=(), unknown_skus=unknown, total=None)
    total = Money(sum(line.total.amount_minor for line in priced), currencies[0])
    return PricedBasket(lines=priced, unknown_skus=unknown, total=total)


def status_label(status: str) -> str:
    """What the page calls an order's status; a status order adds later still reads (a tolerant reader)."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def can_cancel(status: str) -> bool:
    """Whether the page offers to cancel an order in ``status``."""
    return status in CANCELLABLE


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    reached: bool


def progress_of(status: str, history: Iterable[str]) -> tuple[Step, ...]:
    """The order's steps of fulfilment, each reached or not, from its status and the statuses it went through.

    A step is reached if the order was ever in it or in a later one: the history may skip a step
    (order records what happened, and two things may happen in one transaction).
    """
    seen = {status, *history}
    reached = [index for index, step in enumerate(ORDER_STEPS) if step in seen]
    last = max(reached, default=-1)
    return tuple(Step(step, STATUS_LABELS[step], index <= last) for index, step in enumerate(ORDER_STEPS))


def is_card_number(number: str) -> bool:
    """12 to 19 digits whose last is the Luhn check digit: a typing slip is caught before order is asked."""
    if not (12 <= len(number) <= 19 and number.isascii() and number.isdigit()):
        return False
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0
