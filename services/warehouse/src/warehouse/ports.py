"""What the warehouse's use cases need of the world: its records, and a unit of work to change them in.

``store`` implements them over the warehouse's database; ``tests/unit/fakes.py`` in memory.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from paved.messaging import Announce

from warehouse.domain import Fact, Receipt, Reservation, Stock


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


class UnitOfWork(Protocol):
    """The records of one transaction, and where the facts of its changes are told (in the same transaction)."""

    @property
    def stock(self) -> StockLedger: ...
    @property
    def reservations(self) -> ReservationBook: ...
    @property
    def receipts(self) -> ReceiptBook: ...
    @property
    def announce(self) -> Announce[Fact]: ...


class UnitsOfWork(Protocol):
    """Where a use case gets its unit of work: a transaction of its own (an HTTP request's), or the one a
    handled message runs in (which the consumer commits, with the message's inbox row)."""

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit that changes records; what it did is undone if the block raises, unless it is a handled
        message's (then the handler decides, and a refusal it answers commits what was settled before it)."""

    def read(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit that only reads, and takes no lock."""
