"""What an order is made of, and what a customer may ask for: pure Python, no I/O, no framework.

The order itself and its life (placed, reserved, paid, dispatched; or rejected, or cancelled) are in
``order.lifecycle``; this module holds the values it is made of, the request that places it, the rule
that tells a retried request from a different one under the same idempotency key, the steps of its
fulfilment, and the errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

MAX_LINES = 50
MAX_QUANTITY = 99
# Payment takes at most this much for one order (its contract's limit): a larger order could never be paid.
MAX_TOTAL_MINOR = 100_000_000
_CARD_DIGITS = re.compile(r"^[0-9]{12,19}$")


# -- errors ---------------------------------------------------------------------------------------


class InvalidOrderError(ValueError):
    """An order that cannot be placed as asked; the message says what is wrong with it."""


class EmptyOrderError(InvalidOrderError):
    def __init__(self) -> None:
        super().__init__("an order needs at least one line")


class TooManyLinesError(InvalidOrderError):
    def __init__(self, count: int) -> None:
        super().__init__(f"an order has at most {MAX_LINES} lines, not {count}")


class DuplicateSkuError(InvalidOrderError):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"each SKU goes on one line; repeated: {', '.join(skus)}")


class InvalidQuantityError(InvalidOrderError):
    def __init__(self, sku: str, quantity: int) -> None:
        super().__init__(f"{sku}: the quantity must be 1 to {MAX_QUANTITY}, not {quantity}")


class InvalidCardNumberError(InvalidOrderError):
    """Not a card number: 12 to 19 digits whose last one is the Luhn check digit of the others."""

    def __init__(self) -> None:
        # Never the number itself: an error message ends up in logs.
        super().__init__("the card number is not a valid card number (12 to 19 digits, Luhn check)")


class MixedCurrenciesError(InvalidOrderError):
    def __init__(self, currencies: set[str]) -> None:
        super().__init__(f"the catalog prices these lines in different currencies: {', '.join(sorted(currencies))}")


class OrderTooLargeError(InvalidOrderError):
    def __init__(self, amount_minor: int) -> None:
        super().__init__(f"an order comes to at most {MAX_TOTAL_MINOR} minor units, not {amount_minor}")


class UnknownSkuError(InvalidOrderError):
    """Lines name SKUs the catalog does not sell."""

    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"the catalog has no album with SKU {', '.join(skus)}")


class DeliveryAddressNotFoundError(InvalidOrderError):
    def __init__(self, address_id: str) -> None:
        super().__init__(f"the customer has no delivery address {address_id!r}")


class IdempotencyKeyReusedError(Exception):
    """An idempotency key already used for one order came with a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"the Idempotency-Key {key!r} was used for a different order request: a retry must send the same body"
        )


class OrderNotFoundError(LookupError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r}")


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def times(self, quantity: int) -> Money:
        """This amount ``quantity`` times."""
        return Money(self.amount_minor * quantity, self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise MixedCurrenciesError({self.currency, other.currency})
        return Money(self.amount_minor + other.amount_minor, self.currency)


@dataclass(frozen=True)
class CatalogItem:
    """An album as the catalog sells it at the moment of ordering."""

    sku: str
    title: str
    artist: str
    price: Money


@dataclass(frozen=True)
class OrderLine:
    """So many units of one album, at the price the catalog asked when the order was placed."""

    sku: str
    title: str
    artist: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        """The line's price: unit price times quantity."""
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class DeliveryAddress:
    """Where the parcel goes: copied into the order, so the order keeps the address it was placed with."""

    address_id: str
    name: str
    lines: tuple[str, ...]
    city: str
    postcode: str
    country: str


def passes_luhn(digits: str) -> bool:
    """Whether ``digits`` is 12 to 19 digits whose last one is the Luhn check digit of the others."""
    if not _CARD_DIGITS.match(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:  # every second digit from the right is doubled, its digits summed
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


@dataclass(frozen=True, repr=False)
class CardNumber:
    """A card number that passed the Luhn check; it shows only its last four digits."""

    digits: str

    def __post_init__(self) -> None:
        if not passes_luhn(self.digits):
            raise InvalidCardNumberError

    @property
    def last4(self) -> str:
        """The last four digits, which are all a receipt or a screen shows."""
        return self.digits[-4:]

    def __repr__(self) -> str:
        return f"CardNumber(****{self.last4})"

    __str__ = __repr__


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


class FulfilmentStyle(StrEnum):
    """How an order's fulfilment runs: order drives it with commands, or the partners react to events."""

    ORCHESTRATED = "orchestrated"
    CHOREOGRAPHED = "choreographed"


@dataclass(frozen=True)
class OrderRequest:
    """What a customer asks for: lines, one of their delivery addresses, and the card to pay with.

    ``fulfilment`` is the style asked for (tests and benchmarks ask); None takes the service's default.
    """

    customer_id: str
    idempotency_key: str
    lines: tuple[RequestedLine, ...]
    delivery_address_id: str
    card: CardNumber
    fulfilment: FulfilmentStyle | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise EmptyOrderError
        if len(self.lines) > MAX_LINES:
            raise TooManyLinesError(len(self.lines))
        skus = [line.sku for line in self.lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise DuplicateSkuError(repeated)
        for line in self.lines:
            if not 1 <= line.quantity <= MAX_QUANTITY:
                raise InvalidQuantityError(line.sku, line.quantity)

    @property
    def skus(self) -> list[str]:
        """The SKUs asked for, in the request's order."""
        return [line.sku for line in self.lines]

    def fingerprint(self, keyed_hash: Callable[[bytes], str]) -> str:
        """What identifies this request among retries: the same lines (in any order), address and card.

        Keyed (``keyed_hash``), because it covers the card number: an unkeyed hash of a card number is
        found again by trying the few billion numbers a card's known digits leave open.
        """
        canonical = {
            "lines": sorted([line.sku, line.quantity] for line in self.lines),
            "delivery_address_id": self.delivery_address_id,
            "card": self.card.digits,
        }
        return keyed_hash(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode())


@dataclass(frozen=True)
class Placement:
    """The idempotency key an order was placed with, and the fingerprint of the request that placed it."""

    idempotency_key: str
    fingerprint: str

    def check_replay(self, fingerprint: str) -> None:
        """Accept a retry of the request that placed the order; refuse another request under its key."""
        if fingerprint != self.fingerprint:
            raise IdempotencyKeyReusedError(self.idempotency_key)


class Step(StrEnum):
    """A step of an order's fulfilment: the command sent to a partner (its compensation is the saga's)."""

    RESERVE_STOCK = "reserve_stock"
    TAKE_PAYMENT = "take_payment"
    AWARD_POINTS = "award_points"
    DISPATCH_ORDER = "dispatch_order"
