"""The warehouse's use cases: each one unit of work that takes its locks, lets the domain decide, saves,
and announces the facts.

A use case runs in a unit of work of its own (an HTTP request's transaction), or in the transaction of
a handled message; either way a change and the events that announce it commit together or not at all.

Locking, so that two reservations for the last unit cannot both succeed: a change first locks the stock
rows of every SKU it concerns, in one statement and in SKU order, and only then reads the reservations
it changes. A reservation is changed only under the locks of its SKUs' stock, so what is read after
them is current; and since every transaction takes its locks at once and in one order, no two wait for
each other. (On SQLite the database has one writer at a time, which gives the same guarantee.)

Expiry is lazy: a hold that lapsed is let go by the next use case that concerns it, one of its SKUs,
or a read of either, never by a timer. What each use case decides is as if every lapsed hold had
been let go at the moment it lapsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from paved import Clock

from warehouse.domain import (
    Fact,
    Line,
    ReceiptMismatchError,
    Reservation,
    ReservationMismatchError,
    ReservationNotFoundError,
    Stock,
)
from warehouse.ports import UnitOfWork, UnitsOfWork


def _with_empty(found: Mapping[str, Stock], skus: Iterable[str]) -> dict[str, Stock]:
    """``found``, and an empty record for each of ``skus`` it lacks: a SKU never received has none of anything."""
    return {**{sku: Stock(sku) for sku in skus}, **found}


def _drain(events: list[Fact]) -> list[Fact]:
    """The facts an aggregate recorded, taken from it so that they are announced once."""
    facts = list(events)
    events.clear()
    return facts


class Warehouse:
    """The warehouse's use cases, each in a unit of work from ``work``, on ``clock``'s time."""

    def __init__(self, *, work: UnitsOfWork, clock: Clock) -> None:
        self.work = work
        self.clock = clock

    async def receive(self, *, receipt_id: str, sku: str, quantity: int) -> tuple[Stock, bool]:
        """Book a delivery into stock once per receipt id; the stock, and whether the receipt is new."""
        async with self.work.transaction() as uow:
            now = self.clock()
            await uow.stock.open(sku)
            stock = (await uow.stock.lock([sku]))[sku]
            booked = await uow.receipts.get(receipt_id)
            if booked is not None:
                if (booked.sku, booked.quantity) != (sku, quantity):
                    raise ReceiptMismatchError(receipt_id)
                return stock, False
            receipt = stock.receive(quantity, receipt_id=receipt_id, at=now)
            await uow.stock.save(stock)
            await uow.receipts.add(receipt)
            await _announce(uow, _drain(stock.events))
            return stock, True

    async def reserve(self, *, order_id: str, lines: Iterable[Line], ttl: timedelta) -> tuple[Reservation, bool]:
        """Hold all of an order's lines or none, once per order id; the reservation, and whether it is new.

        Asking again for the same lines returns the order's reservation as it stands (even if released
        or expired since); asking with other lines is refused (``ReservationMismatchError``).
        """
        async with self.work.transaction() as uow:
            now = self.clock()
            lines = tuple(lines)
            skus = {line.sku for line in lines}
            # Holds that lapsed unseen still count as reserved in storage: let them go before deciding.
            lapsed = await uow.reservations.lapsed(skus=skus, now=now)
            stock = _with_empty(await uow.stock.lock(skus.union(*(r.skus for r in lapsed))), skus)
            await _expire(uow, lapsed, stock, now=now)
            existing = await uow.reservations.get(order_id)
            if existing is not None:
                if not existing.covers(lines):
                    raise ReservationMismatchError(order_id)
                return existing, False
            reservation = Reservation.place(order_id=order_id, lines=lines, stock=stock, now=now, ttl=ttl)
            await _store(uow, reservation, stock, new=True)
            return reservation, True

    async def release(self, order_id: str) -> Reservation:
        """Put an order's held stock back on the shelf; releasing again changes nothing."""
        async with self.work.transaction() as uow:
            reservation, stock = await _locked(uow, order_id)
            reservation.release(stock, now=self.clock())
            await _store(uow, reservation, stock)
            return reservation

    async def pick(self, order_id: str) -> Reservation:
        """Mark an order's units picked: its hold no longer lapses. Refused once expired or released."""
        async with self.work.transaction() as uow:
            now = self.clock()
            reservation, stock = await _locked(uow, order_id)
            # Settled first, so that a refusal for expiry finds the stock already back (kept if the caller commits).
            if reservation.expire_if_lapsed(stock, now=now):
                await _store(uow, reservation, stock)
            reservation.pick(now=now)
            await _store(uow, reservation, stock)
            return reservation

    async def dispatch(self, order_id: str) -> Reservation:
        """Send an order's units; refused if its hold lapsed before it was picked, or it was released."""
        async with self.work.transaction() as uow:
            now = self.clock()
            reservation, stock = await _locked(uow, order_id)
            if reservation.expire_if_lapsed(stock, now=now):
                await _store(uow, reservation, stock)
            reservation.dispatch(stock, now=now)
            await _store(uow, reservation, stock)
            return reservation

    async def reservation(self, order_id: str) -> Reservation:
        """An order's reservation as it stands: read without a lock, unless its hold lapsed and must be let go
        first (so that "expired" is said only once the stock is back on the shelf)."""
        async with self.work.read() as uow:
            reservation = await _find(uow, order_id)
            if not reservation.is_lapsed(self.clock()):
                return reservation
        async with self.work.transaction() as uow:
            now = self.clock()
            reservation, stock = await _locked(uow, order_id)
            if reservation.expire_if_lapsed(stock, now=now):
                await _store(uow, reservation, stock)
            return reservation

    async def levels(self, skus: Iterable[str]) -> list[Stock]:
        """The stock of each SKU, in the order asked, each once: read without a lock, unless lapsed holds on
        them must be let go first (so that no read shows stock held for an order that no longer has it)."""
        wanted = list(dict.fromkeys(skus))
        async with self.work.read() as uow:
            if not await uow.reservations.lapsed(skus=wanted, now=self.clock()):
                return await _levels(uow, wanted)
        async with self.work.transaction() as uow:
            now = self.clock()
            lapsed = await uow.reservations.lapsed(skus=wanted, now=now)
            if lapsed:
                stock = await uow.stock.lock(set().union(*(r.skus for r in lapsed)))
                await _expire(uow, lapsed, stock, now=now)
            return await _levels(uow, wanted)


# -- the steps use cases share, in their unit of work -----------------------------------------------


async def _levels(uow: UnitOfWork, skus: list[str]) -> list[Stock]:
    found = await uow.stock.read(skus)
    return [found.get(sku) or Stock(sku) for sku in skus]


async def _find(uow: UnitOfWork, order_id: str) -> Reservation:
    reservation = await uow.reservations.get(order_id)
    if reservation is None:
        raise ReservationNotFoundError(order_id)
    return reservation


async def _locked(uow: UnitOfWork, order_id: str) -> tuple[Reservation, dict[str, Stock]]:
    """The order's reservation, read again once the stock of its lines is locked (so it is current)."""
    found = await _find(uow, order_id)
    stock = await uow.stock.lock(found.skus)
    return await _find(uow, order_id), stock


async def _expire(uow: UnitOfWork, lapsed: Iterable[Reservation], stock: dict[str, Stock], *, now: datetime) -> None:
    for candidate in lapsed:
        # Read again under the locks: it may have been picked or released since the unlocked query.
        reservation = await _find(uow, candidate.order_id)
        if reservation.expire_if_lapsed(stock, now=now):
            await _store(uow, reservation, stock)


async def _store(uow: UnitOfWork, reservation: Reservation, stock: Mapping[str, Stock], *, new: bool = False) -> None:
    """Save what a reservation's action changed, and announce it.

    An action that recorded nothing changed nothing.
    """
    facts = _drain(reservation.events)
    if not facts:
        return
    for sku in reservation.skus:
        await uow.stock.save(stock[sku])
    if new:
        await uow.reservations.add(reservation)
    else:
        await uow.reservations.save(reservation)
    await _announce(uow, facts)


async def _announce(uow: UnitOfWork, facts: Iterable[Fact]) -> None:
    for fact in facts:
        await uow.announce(fact)
