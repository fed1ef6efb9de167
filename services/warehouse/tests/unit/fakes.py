"""In-memory stand-ins for the warehouse's ports, shared by the unit tests.

They keep copies, as a database does: a change reaches the fake only through ``save`` or ``add``, so a
use case that forgets to save is caught. ``FakeStore.transaction()`` rolls everything back (announced
facts included) when the block raises, as the real transaction does. A ``Warehouse`` over the store runs
each use case in a transaction of its own (as an HTTP request's), or, ``joined``, in the caller's (as a
handled message's, which the consumer commits: wrap it in ``FakeStore.transaction()`` to be that consumer).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from warehouse.domain import (
    Fact,
    Receipt,
    ReceiptMismatchError,
    Reservation,
    ReservationMismatchError,
    ReservationStatus,
    Stock,
)
from warehouse.use_cases import Warehouse

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _copy_stock(stock: Stock) -> Stock:
    return Stock(stock.sku, stock.received, stock.available, stock.reserved, stock.dispatched)


def _copy_reservation(reservation: Reservation) -> Reservation:
    return replace(reservation, events=[])


@dataclass
class FakeStore:
    """What the database would hold: stock, reservations, receipts, choreographed orders, and the facts announced."""

    stock: dict[str, Stock] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)
    announced: list[Fact] = field(default_factory=list)
    choreographed: dict[str, datetime] = field(default_factory=dict)  # order id: when its fulfilment was asked

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything the block changed, undone if it raises."""
        before = copy.deepcopy((self.stock, self.reservations, self.receipts, self.announced, self.choreographed))
        try:
            yield
        except BaseException:
            self.stock, self.reservations, self.receipts, self.announced, self.choreographed = before
            raise

    def warehouse(self, clock: ManualClock, *, joined: bool = False) -> Warehouse:
        """The warehouse's use cases over this store, each in a transaction of its own unless ``joined``."""
        return Warehouse(work=FakeUnitsOfWork(self, joined=joined), clock=clock)


@dataclass(frozen=True)
class FakeUnitOfWork:
    stock: FakeStockLedger
    reservations: FakeReservationBook
    receipts: FakeReceiptBook
    store: FakeStore

    async def announce(self, fact: Fact) -> None:
        self.store.announced.append(fact)


class FakeUnitsOfWork:
    """Units of work over a ``FakeStore``: transactions of their own, or the caller's (``joined``)."""

    def __init__(self, store: FakeStore, *, joined: bool) -> None:
        self.store = store
        self.joined = joined
        self.work = FakeUnitOfWork(FakeStockLedger(store), FakeReservationBook(store), FakeReceiptBook(store), store)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeUnitOfWork]:
        if self.joined:
            yield self.work
            return
        with self.store.transaction():
            yield self.work

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeUnitOfWork]:
        yield self.work


class FakeStockLedger:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def open(self, sku: str) -> None:
        self.store.stock.setdefault(sku, Stock(sku))

    async def lock(self, skus: Collection[str]) -> dict[str, Stock]:
        return await self.read(skus)

    async def read(self, skus: Collection[str]) -> dict[str, Stock]:
        return {sku: _copy_stock(self.store.stock[sku]) for sku in sorted(skus) if sku in self.store.stock}

    async def save(self, stock: Stock) -> None:
        if stock.sku not in self.store.stock:
            raise LookupError(f"{stock.sku} has no stock record to save to")
        self.store.stock[stock.sku] = _copy_stock(stock)


class FakeReservationBook:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, order_id: str) -> Reservation | None:
        found = self.store.reservations.get(order_id)
        return None if found is None else _copy_reservation(found)

    async def add(self, reservation: Reservation) -> None:
        if reservation.order_id in self.store.reservations:
            raise ReservationMismatchError(reservation.order_id)
        self.store.reservations[reservation.order_id] = _copy_reservation(reservation)

    async def save(self, reservation: Reservation) -> None:
        self.store.reservations[reservation.order_id] = _copy_reservation(reservation)

    async def lapsed(self, *, skus: Collection[str], now: datetime) -> list[Reservation]:
        return [
            _copy_reservation(r)
            for r in self.store.reservations.values()
            if r.status is ReservationStatus.HELD and r.expires_at <= now and set(r.skus) & set(skus)
        ]


class FakeReceiptBook:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, receipt_id: str) -> Receipt | None:
        return self.store.receipts.get(receipt_id)

    async def add(self, receipt: Receipt) -> None:
        if receipt.receipt_id in self.store.receipts:
            raise ReceiptMismatchError(receipt.receipt_id)
        self.store.receipts[receipt.receipt_id] = receipt


class FakeChoreographedOrders:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def includes(self, order_id: str) -> bool:
        return order_id in self.store.choreographed

    async def add(self, order_id: str, *, requested_at: datetime) -> None:
        if order_id in self.store.choreographed:
            raise LookupError(f"order {order_id!r} is written down already")  # the table's primary key
        self.store.choreographed[order_id] = requested_at


def stocked(**quantities: int) -> FakeStore:
    """A store with these SKUs on the shelf (``ALB_00001=3`` is 3 units of ALB-00001)."""
    store = FakeStore()
    for name, quantity in quantities.items():
        sku = name.replace("_", "-")
        store.stock[sku] = Stock(sku, received=quantity, available=quantity)
    return store
