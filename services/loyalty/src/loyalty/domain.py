"""Loyalty points: a ledger of awards and revocations per order, and the balance they add up to. No I/O.

The rules, per order: points are awarded at most once, revoked at most once, and never awarded after a
revocation. So a revocation that arrives before its award (messages overtake each other) is recorded
as a revocation of nothing, and the award that follows finds it and adds nothing. Whatever order the
commands arrive in, and however often, a customer's balance ends as the points of their orders that
were awarded and not revoked; and it is never negative, since a revocation takes back only what its
own order's award gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

# One point per whole unit of the currency (per 100 minor units: pence, cents), rounded down.
MINOR_UNITS_PER_POINT = 100
CURRENCY = re.compile(r"[A-Z]{3}")


class LoyaltyError(Exception):
    """A rule of the loyalty ledger was broken."""


class InvalidAmountError(LoyaltyError):
    """An order amount points cannot be reckoned from."""


class LedgerInconsistentError(LoyaltyError):
    """The stored ledger contradicts itself (a balance would go below zero): a bug or a hand edit, never input."""


@dataclass(frozen=True)
class Money:
    """An amount in minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.amount_minor < 0:
            raise InvalidAmountError(f"an order amount is not negative: {self.amount_minor}")
        if not CURRENCY.fullmatch(self.currency):
            raise InvalidAmountError(f"currency {self.currency!r} is not an ISO 4217 code such as 'GBP'")


def points_for(amount: Money) -> int:
    """The points an order of ``amount`` earns."""
    return amount.amount_minor // MINOR_UNITS_PER_POINT


class EntryKind(StrEnum):
    AWARD = "award"
    REVOKE = "revoke"


@dataclass(frozen=True)
class Entry:
    """One line of a customer's ledger: points awarded for an order, or taken back from it."""

    customer_id: str
    number: int  # 1, 2, 3… per customer, in the order they were recorded
    order_id: str
    kind: EntryKind
    points: int
    balance_after: int
    recorded_at: datetime
    amount: Money | None = None  # what an award was reckoned from


@dataclass(frozen=True)
class OrderEntries:
    """What a customer's ledger holds for one order: at most one award and one revocation."""

    order_id: str
    award: Entry | None = None
    revoke: Entry | None = None


@dataclass(frozen=True)
class Statement:
    """A customer's balance and their most recent entries, newest first."""

    customer_id: str
    balance: int
    entries: list[Entry]


class PaymentOutcome(StrEnum):
    """What a payment event said of an order loyalty had not been told of yet."""

    TAKEN = "taken"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class ChoreographedOrder:
    """An order whose fulfilment is choreographed: its payment's events award and revoke its points."""

    order_id: str
    customer_id: str
    total: Money  # what its points are reckoned from, as AwardPoints' amount is
    requested_at: datetime


@dataclass
class PointsAccount:
    """One customer's balance, changed only by recording entries."""

    customer_id: str
    balance: int = 0
    entries: int = 0  # how many entries the ledger holds for this customer
    recorded: list[Entry] = field(default_factory=list)  # entries recorded since loaded: to store and announce

    def award(self, order: OrderEntries, amount: Money, *, at: datetime) -> OrderEntries:
        """Award the order's points, unless it was awarded already or revoked first; where it then stands."""
        if order.award is not None or order.revoke is not None:
            return order
        points = points_for(amount)
        return replace(order, award=self._record(order.order_id, EntryKind.AWARD, points, +points, at, amount))

    def revoke(self, order: OrderEntries, *, at: datetime) -> OrderEntries:
        """Take back what the order was awarded (nothing, if it was not); where it then stands.

        The revocation is recorded even when nothing was awarded: it is what stops a late award.
        """
        if order.revoke is not None:
            return order
        points = order.award.points if order.award is not None else 0
        return replace(order, revoke=self._record(order.order_id, EntryKind.REVOKE, points, -points, at, None))

    def _record(
        self, order_id: str, kind: EntryKind, points: int, change: int, at: datetime, amount: Money | None
    ) -> Entry:
        balance = self.balance + change
        if balance < 0:
            raise LedgerInconsistentError(
                f"{self.customer_id}: taking {points} points for {order_id} would leave {balance}"
            )
        self.entries += 1
        self.balance = balance
        entry = Entry(self.customer_id, self.entries, order_id, kind, points, balance, at, amount)
        self.recorded.append(entry)
        return entry
