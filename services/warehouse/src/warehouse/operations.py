"""The warehouse's operations: each takes its locks, lets the domain decide, saves, and announces the facts.

An operation runs in its caller's transaction (an HTTP request's, or a consumed message's), so a change
and the events that announce it commit together or not at all.

Locking, so that two reservations for the last unit cannot both succeed: a change first locks the stock
rows of every SKU it concerns, in one statement and in SKU order, and only then reads the reservations
it changes. A reservation is changed only under the locks of its SKUs' stock, so what is read after
them is current; and since every transaction takes its locks at once and in one order, no two wait for
each other. (On SQLite the database has one writer at a time, which gives the same guarantee.)

Expiry is lazy: a hold that lapsed is let go by the next operation that concerns it, one of its SKUs,
or a read of either, never by a timer. What each operation decides is as if every lapsed hold had
been let go at the moment it lapsed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from warehouse.domain import (
    Fact,
    Line,
    Receipt,
    ReceiptMismatchError,
    Reservation,
    ReservationMismatchError,
    ReservationNotFoundError,
    Stock,
)

Clock = Callable[[], datetime]
"""What time it is, timezone-aware UTC; tests pass one they move by hand."""


def utc_now() -> datetime:
    """The system's time, in UTC."""
    return datetime.now(UTC)


class StockLedger(Protocol):
    """The stock records, one per SKU ever received."""

    async def open(self, sku: str) -> None:
        """Give ``sku`` an empty stock record if it has none, so that it can be locked."""

    async def lock(self, skus: Collection[str]) -> dict[str, Stock]:
        """The records of ``skus`` that exist, locked until the transaction ends, locked in SKU order."""

    async def read(self, skus: Collection[str]) -> dict[str, Stock]:
        """The records of ``skus`` that exist, unlocked."""

    async def save(self, stock: Stock) -> None: ...


class ReservationBook(Protocol):
    """Every reservation ever made, by order id; never deleted."""

    async def get(self, order_id: str) -> Reservation | None: ...

    async def add(self, reservation: Reservation) -> None:
        """Store a new reservation; ``ReservationMismatchError`` if the order has one already."""

    async def save(self, reservation: Reservation) -> None:
        """Store a reservation's new state (its lines never change)."""

    async def lapsed(self, *, skus: Collection[str], now: datetime) -> list[Reservation]:
        """The held reservations past their time that hold any of ``skus``."""


class ReceiptBook(Protocol):
    """Every receipt booked, by receipt id."""

    async def get(self, receipt_id: str) -> Receipt | None: ...

    async def add(self, receipt: Receipt) -> None:
        """Store a new receipt; ``ReceiptMismatchError`` if its id is booked already."""


Announce = Callable[[Fact], Awaitable[None]]
"""Where facts go: in service, the outbox, in the operation's transaction."""


def _with_empty(found: Mapping[str, Stock], skus: Iterable[str]) -> dict[str, Stock]:
    """``found``, and an empty record for each of ``skus`` it lacks: a SKU never received has none of anything."""
    return {**{sku: Stock(sku) for sku in skus}, **found}


def _drain(events: list[Fact]) -> list[Fact]:
    """The facts an aggregate recorded, taken from it so that they are announced once."""
    facts = list(events)
    events.clear()
    return facts


class Warehouse:
    """The warehouse's operations, over the repositories of one transaction."""

    def __init__(
        self,
        *,
        stock: StockLedger,
        reservations: ReservationBook,
        receipts: ReceiptBook,
        announce: Announce,
        clock: Clock,
    ) -> None:
        self.stock = stock
        self.reservations = reservations
        self.receipts = receipts
        self.announce = announce
        self.clock = clock

    async def receive(self, *, receipt_id: str, sku: str, quantity: int) -> tuple[Stock, bool]:
        """Book a delivery into stock once per receipt id; the stock, and whether the receipt is new."""
        now = self.clock()
        await self.stock.open(sku)
        stock = (await self.stock.lock([sku]))[sku]
        booked = await self.receipts.get(receipt_id)
        if booked is not None:
            if (booked.sku, booked.quantity) != (sku, quantity):
                raise ReceiptMismatchError(receipt_id)
            return stock, False
        receipt = stock.receive(quantity, receipt_id=receipt_id, at=now)
        await self.stock.save(stock)
        await self.receipts.add(receipt)
        await self._announce(_drain(stock.events))
        return stock, True

    async def reserve(self, *, order_id: str, lines: Iterable[Line], ttl: timedelta) -> tuple[Reservation, bool]:
        """Hold all of an order's lines or none, once per order id; the reservation, and whether it is new.

        Asking again for the same lines returns the order's reservation as it stands (even if released
        or expired since); asking with other lines is refused (``ReservationMismatchError``).
        """
        now = self.clock()
        lines = tuple(lines)
        skus = {line.sku for line in lines}
        # Holds that lapsed unseen still count as reserved in storage: let them go before deciding.
        lapsed = await self.reservations.lapsed(skus=skus, now=now)
        stock = _with_empty(await self.stock.lock(skus.union(*(r.skus for r in lapsed))), skus)
        await self._expire(lapsed, stock, now=now)
        existing = await self.reservations.get(order_id)
        if existing is not None:
            if not existing.covers(lines):
                raise ReservationMismatchError(order_id)
            return existing, False
        reservation = Reservation.place(order_id=order_id, lines=lines, stock=stock, now=now, ttl=ttl)
        await self._store(reservation, stock, new=True)
        return reservation, True

    async def release(self, order_id: str) -> Reservation:
        """Put an order's held stock back on the shelf; releasing again changes nothing."""
        reservation, stock = await self._locked(order_id)
        reservation.release(stock, now=self.clock())
        await self._store(reservation, stock)
        return reservation

    async def pick(self, order_id: str) -> Reservation:
        """Mark an order's units picked: its hold no longer lapses. Refused once expired or released."""
        now = self.clock()
        reservation, stock = await self._locked(order_id)
        # Settled first, so that a refusal for expiry finds the stock already back (kept if the caller commits).
        if reservation.expire_if_lapsed(stock, now=now):
            await self._store(reservation, stock)
        reservation.pick(now=now)
        await self._store(reservation, stock)
        return reservation

    async def dispatch(self, order_id: str) -> Reservation:
        """Send an order's units; refused if its hold lapsed before it was picked, or it was released."""
        now = self.clock()
        reservation, stock = await self._locked(order_id)
        if reservation.expire_if_lapsed(stock, now=now):
            await self._store(reservation, stock)
        reservation.dispatch(stock, now=now)
        await self._store(reservation, stock)
        return reservation

    async def refresh(self, order_id: str) -> Reservation:
        """An order's reservation as it stands, its hold let go first if it lapsed."""
        now = self.clock()
        reservation, stock = await self._locked(order_id)
        if reservation.expire_if_lapsed(stock, now=now):
            await self._store(reservation, stock)
        return reservation

    async def expire_lapsed(self, skus: Collection[str]) -> int:
        """Let go every lapsed hold on any of ``skus``; how many there were."""
        now = self.clock()
        lapsed = await self.reservations.lapsed(skus=skus, now=now)
        if not lapsed:
            return 0
        stock = await self.stock.lock(set().union(*(r.skus for r in lapsed)))
        return await self._expire(lapsed, stock, now=now)

    # -- reads: they change nothing, and need no lock -------------------------------------------

    async def levels(self, skus: Iterable[str]) -> list[Stock]:
        """The stock of each SKU, in the order asked, each once."""
        wanted = list(dict.fromkeys(skus))
        found = await self.stock.read(wanted)
        return [found.get(sku) or Stock(sku) for sku in wanted]

    async def has_lapsed_holds(self, skus: Collection[str]) -> bool:
        """Whether any of ``skus`` has stock held by a hold that lapsed and is not let go yet."""
        return bool(await self.reservations.lapsed(skus=skus, now=self.clock()))

    async def find(self, order_id: str) -> Reservation:
        """The order's reservation as stored (its hold may have lapsed: see ``has_lapsed``)."""
        reservation = await self.reservations.get(order_id)
        if reservation is None:
            raise ReservationNotFoundError(order_id)
        return reservation

    def has_lapsed(self, reservation: Reservation) -> bool:
        """Whether the reservation's hold lapsed and is not let go yet."""
        return reservation.is_lapsed(self.clock())

    # -- the steps operations share ---------------------------------------------------------------

    async def _locked(self, order_id: str) -> tuple[Reservation, dict[str, Stock]]:
        """The order's reservation, read again once the stock of its lines is locked (so it is current)."""
        found = await self.find(order_id)
        stock = await self.stock.lock(found.skus)
        return await self.find(order_id), stock

    async def _expire(self, lapsed: Iterable[Reservation], stock: dict[str, Stock], *, now: datetime) -> int:
        expired = 0
        for candidate in lapsed:
            # Read again under the locks: it may have been picked or released since the unlocked query.
            reservation = await self.find(candidate.order_id)
            if reservation.expire_if_lapsed(stock, now=now):
                await self._store(reservation, stock)
                expired += 1
        return expired

    async def _store(self, reservation: Reservation, stock: Mapping[str, Stock], *, new: bool = False) -> None:
        """Save what a reservation's action changed, and announce it.

        An action that recorded nothing changed nothing.
        """
        facts = _drain(reservation.events)
        if not facts:
            return
        for sku in reservation.skus:
            await self.stock.save(stock[sku])
        if new:
            await self.reservations.add(reservation)
        else:
            await self.reservations.save(reservation)
        await self._announce(facts)

    async def _announce(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            await self.announce(fact)
