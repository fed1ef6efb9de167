"""Stock, reservations and dispatches: the warehouse's rules, with no I/O and no framework.

Every unit of a SKU the warehouse ever received is in exactly one place: available (on the shelf, free
to reserve), reserved (on the shelf, held for an order) or dispatched (gone to a customer). A
reservation moves units from available to reserved; from there they go back once (released, or expired
when the hold lapses before it was picked) or on once (dispatched), never both.

Each business action checks its rule before it changes anything, then records what happened as a fact
in ``events``; a refused action changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Literal


class WarehouseError(Exception):
    """A rule of the warehouse refused an action; nothing was changed."""


class InvalidQuantityError(WarehouseError):
    """A quantity that is not a whole number of units above zero."""


class InvalidReservationError(WarehouseError):
    """A reservation that cannot be asked for: no lines, a SKU twice, or no time to hold it."""


@dataclass(frozen=True)
class Shortage:
    """One SKU of an order that the shelf cannot cover."""

    sku: str
    requested: int
    available: int

    @property
    def missing(self) -> int:
        return self.requested - self.available


class OutOfStockError(WarehouseError):
    """An order asked for more of one or more SKUs than is available; no line was reserved."""

    def __init__(self, order_id: str, shortages: Iterable[Shortage]) -> None:
        self.order_id = order_id
        self.shortages = tuple(shortages)
        short = "; ".join(
            f"{s.sku} is short by {s.missing} ({s.requested} asked, {s.available} available)" for s in self.shortages
        )
        super().__init__(f"order {order_id!r} cannot be reserved: {short}")


class ReservationNotFoundError(WarehouseError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} has no reservation")


class ReservationMismatchError(WarehouseError):
    """The order is already reserved, with other lines: asking again must ask for the same."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} is already reserved with other lines; a reservation cannot be changed")


class ReservationExpiredError(WarehouseError):
    def __init__(self, order_id: str, expired_at: datetime) -> None:
        super().__init__(
            f"the reservation of order {order_id!r} expired at {expired_at.isoformat()} before it was picked, "
            "and its stock went back to the shelf"
        )


class ReservationReleasedError(WarehouseError):
    def __init__(self, order_id: str, released_at: datetime | None) -> None:
        when = f" at {released_at.isoformat()}" if released_at else ""
        super().__init__(
            f"the reservation of order {order_id!r} was released{when}, and its stock went back to the shelf"
        )


class AlreadyDispatchedError(WarehouseError):
    def __init__(self, order_id: str, dispatched_at: datetime | None) -> None:
        when = f" at {dispatched_at.isoformat()}" if dispatched_at else ""
        super().__init__(f"order {order_id!r} was dispatched{when}; its stock has left and cannot be released")


class ReceiptMismatchError(WarehouseError):
    """A receipt id booked before, now with another SKU or quantity: a receipt is counted once."""

    def __init__(self, receipt_id: str) -> None:
        super().__init__(f"receipt {receipt_id!r} is already booked, with another SKU or quantity")


class StockAccountingError(RuntimeError):
    """The counts of a SKU would go below zero or stop adding up: a defect, refused before it is stored."""


def _check_quantity(quantity: int) -> None:
    # bool is an int in Python, and True units of stock is not a quantity.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidQuantityError(f"a quantity is a whole number of units above zero, not {quantity!r}")


@dataclass(frozen=True)
class Line:
    """So many units of one SKU, for an order."""

    sku: str
    quantity: int

    def __post_init__(self) -> None:
        _check_quantity(self.quantity)


@dataclass(frozen=True)
class Receipt:
    """A delivery of one SKU booked into stock; its id makes booking it twice count once."""

    receipt_id: str
    sku: str
    quantity: int
    received_at: datetime


@dataclass(frozen=True)
class StockReceived:
    sku: str
    quantity: int
    receipt_id: str
    at: datetime


@dataclass(frozen=True)
class StockReserved:
    order_id: str
    lines: tuple[Line, ...]
    expires_at: datetime
    at: datetime


ReleaseReason = Literal["released", "expired"]


@dataclass(frozen=True)
class StockReleased:
    order_id: str
    lines: tuple[Line, ...]
    reason: ReleaseReason
    at: datetime


@dataclass(frozen=True)
class OrderPicked:
    order_id: str
    at: datetime


@dataclass(frozen=True)
class OrderDispatched:
    order_id: str
    lines: tuple[Line, ...]
    at: datetime


Fact = StockReceived | StockReserved | StockReleased | OrderPicked | OrderDispatched


@dataclass
class Stock:
    """The units of one SKU: every one received is available, reserved or dispatched, never below zero."""

    sku: str
    received: int = 0
    available: int = 0
    reserved: int = 0
    dispatched: int = 0
    events: list[Fact] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._check()

    @property
    def on_hand(self) -> int:
        """Units in the building: on the shelf, free or held."""
        return self.available + self.reserved

    def receive(self, quantity: int, *, receipt_id: str, at: datetime) -> Receipt:
        """Put a delivery of ``quantity`` units on the shelf, free to reserve."""
        _check_quantity(quantity)
        self.received += quantity
        self.available += quantity
        self.events.append(StockReceived(self.sku, quantity, receipt_id, at))
        return Receipt(receipt_id=receipt_id, sku=self.sku, quantity=quantity, received_at=at)

    # The moves below are a reservation's, which checks its rules first and records the fact.

    def hold(self, quantity: int) -> None:
        """Set ``quantity`` available units aside for a reservation."""
        self._move(available=-quantity, reserved=quantity)

    def let_go(self, quantity: int) -> None:
        """Put ``quantity`` held units back on the shelf."""
        self._move(reserved=-quantity, available=quantity)

    def ship(self, quantity: int) -> None:
        """Send ``quantity`` held units out of the building."""
        self._move(reserved=-quantity, dispatched=quantity)

    def _move(self, *, available: int = 0, reserved: int = 0, dispatched: int = 0) -> None:
        after = Stock(
            self.sku, self.received, self.available + available, self.reserved + reserved, self.dispatched + dispatched
        )
        self.available, self.reserved, self.dispatched = after.available, after.reserved, after.dispatched

    def _check(self) -> None:
        counts = (self.available, self.reserved, self.dispatched)
        if min(counts) < 0 or sum(counts) != self.received:
            raise StockAccountingError(
                f"{self.sku}: available {self.available} + reserved {self.reserved} + dispatched {self.dispatched} "
                f"must be {self.received} received, none below zero"
            )


class ReservationStatus(StrEnum):
    HELD = "held"
    PICKED = "picked"
    DISPATCHED = "dispatched"
    RELEASED = "released"
    EXPIRED = "expired"


_LET_GO = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED)  # its units went back to the shelf


def _checked_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """The lines in SKU order (one way to write the same order); refused if empty or a SKU repeats."""
    ordered = tuple(sorted(lines, key=lambda line: line.sku))
    if not ordered:
        raise InvalidReservationError("a reservation needs at least one line")
    repeated = sorted({a.sku for a, b in pairwise(ordered) if a.sku == b.sku})
    if repeated:
        raise InvalidReservationError(f"each SKU goes on one line; repeated: {', '.join(repeated)}")
    return ordered


@dataclass
class Reservation:
    """The stock held for one order, until it is dispatched, released, or its hold lapses.

    A hold lapses at ``expires_at`` unless the order was picked by then (picked goods are off the
    shelf and wait for the van; they no longer expire). A lapsed hold counts as expired from that moment
    on, whether or not anything has yet put its stock back (see ``expire_if_lapsed``).
    """

    order_id: str
    lines: tuple[Line, ...]
    reserved_at: datetime
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.HELD
    picked_at: datetime | None = None
    released_at: datetime | None = None
    dispatched_at: datetime | None = None
    events: list[Fact] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def place(
        cls, *, order_id: str, lines: Iterable[Line], stock: Mapping[str, Stock], now: datetime, ttl: timedelta
    ) -> Reservation:
        """Hold every line's units for ``ttl``, or none: ``OutOfStockError`` names each SKU that is short.

        ``stock`` has the stock of every SKU of the lines (a SKU never received has an empty one).
        """
        wanted = _checked_lines(lines)
        if ttl <= timedelta(0):
            raise InvalidReservationError(f"a reservation is held for some time, not {ttl}")
        shortages = [
            Shortage(line.sku, line.quantity, stock[line.sku].available)
            for line in wanted
            if line.quantity > stock[line.sku].available
        ]
        if shortages:
            raise OutOfStockError(order_id, shortages)
        for line in wanted:
            stock[line.sku].hold(line.quantity)
        reservation = cls(order_id=order_id, lines=wanted, reserved_at=now, expires_at=now + ttl)
        reservation.events.append(StockReserved(order_id, wanted, reservation.expires_at, now))
        return reservation

    @property
    def skus(self) -> list[str]:
        return [line.sku for line in self.lines]

    def covers(self, lines: Iterable[Line]) -> bool:
        """Whether ``lines`` ask for what this reservation holds (in any order): asking again is then a repeat."""
        try:
            return _checked_lines(lines) == self.lines
        except InvalidReservationError:
            return False

    def is_lapsed(self, now: datetime) -> bool:
        """Held, unpicked, and past its time: its stock is no longer the order's."""
        return self.status is ReservationStatus.HELD and now >= self.expires_at

    def expire_if_lapsed(self, stock: Mapping[str, Stock], *, now: datetime) -> bool:
        """Put the stock of a lapsed hold back on the shelf, as of when it lapsed; whether it had lapsed."""
        if not self.is_lapsed(now):
            return False
        self._let_go(stock, status=ReservationStatus.EXPIRED, at=self.expires_at)
        return True

    def release(self, stock: Mapping[str, Stock], *, now: datetime) -> None:
        """Put the order's stock back on the shelf; releasing again, or after it expired, changes nothing."""
        if self.status is ReservationStatus.DISPATCHED:
            raise AlreadyDispatchedError(self.order_id, self.dispatched_at)
        if self.status in _LET_GO or self.expire_if_lapsed(stock, now=now):
            return
        self._let_go(stock, status=ReservationStatus.RELEASED, at=now)

    def pick(self, *, now: datetime) -> None:
        """Take the order's units off the shelf for packing; from then on the hold no longer lapses."""
        self._refuse_if_let_go(now)
        if self.status is not ReservationStatus.HELD:
            return  # picked or dispatched already: picking is done
        self.status = ReservationStatus.PICKED
        self.picked_at = now
        self.events.append(OrderPicked(self.order_id, now))

    def dispatch(self, stock: Mapping[str, Stock], *, now: datetime) -> None:
        """Send the order's units to the customer; a lapsed hold can no longer be dispatched unless picked."""
        self._refuse_if_let_go(now)
        if self.status is ReservationStatus.DISPATCHED:
            return
        for line in self.lines:
            stock[line.sku].ship(line.quantity)
        self.status = ReservationStatus.DISPATCHED
        self.dispatched_at = now
        self.events.append(OrderDispatched(self.order_id, self.lines, now))

    def _refuse_if_let_go(self, now: datetime) -> None:
        if self.status is ReservationStatus.EXPIRED or self.is_lapsed(now):
            raise ReservationExpiredError(self.order_id, self.expires_at)
        if self.status is ReservationStatus.RELEASED:
            raise ReservationReleasedError(self.order_id, self.released_at)

    def _let_go(self, stock: Mapping[str, Stock], *, status: ReservationStatus, at: datetime) -> None:
        for line in self.lines:
            stock[line.sku].let_go(line.quantity)
        self.status = status
        self.released_at = at
        reason: ReleaseReason = "expired" if status is ReservationStatus.EXPIRED else "released"
        self.events.append(StockReleased(self.order_id, self.lines, reason, at))
