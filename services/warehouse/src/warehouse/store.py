"""The warehouse's repositories over its tables, and the units of work its use cases run in; the only
code that knows the tables.

A unit of work is the records of one transaction and an announcer that writes the facts' events to the
outbox in that transaction: an HTTP request's use cases each get a transaction of their own
(``Transactions``), a handled message's run in the consumer's (``HandlingTransaction``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from paved import Database, Envelope
from paved.messaging import Announce, Announcer, Handling, MessageWriter
from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse.announcements import correlation_of, event_of
from warehouse.domain import (
    Fact,
    Line,
    Receipt,
    ReceiptMismatchError,
    Reservation,
    ReservationMismatchError,
    ReservationStatus,
    Stock,
)
from warehouse.tables import choreographed_orders, receipts, reservation_lines, reservations, stock

_STOCK_COUNTS = ("received", "available", "reserved", "dispatched")
_RESERVATION_STATE = ("status", "reserved_at", "expires_at", "picked_at", "released_at", "dispatched_at")

# The statements each message runs, built once: building a statement per call cost ~25% of the service's
# CPU under load (bench/README.md issue 5). The values that vary are bind parameters, given at execution.
_SELECT_STOCK = select(stock).where(stock.c.sku.in_(bindparam("skus", expanding=True))).order_by(stock.c.sku)
_LOCK_STOCK = _SELECT_STOCK.with_for_update()
# "key" names the row: a bind parameter named after a column would be taken for that column's new value.
_SAVE_STOCK = (
    update(stock).where(stock.c.sku == bindparam("key")).values({name: bindparam(name) for name in _STOCK_COUNTS})
)

_SELECT_RESERVATIONS = (
    select(reservations)
    .where(reservations.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(reservations.c.order_id)
)
_SELECT_RESERVATION_LINES = (
    select(reservation_lines)
    .where(reservation_lines.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(reservation_lines.c.sku)
)
_SELECT_LAPSED_ORDER_IDS = (
    select(reservation_lines.c.order_id)
    .join(reservations, reservations.c.order_id == reservation_lines.c.order_id)
    .where(
        reservation_lines.c.sku.in_(bindparam("skus", expanding=True)),
        reservations.c.status == ReservationStatus.HELD.value,
        reservations.c.expires_at <= bindparam("now"),
    )
    .distinct()
)
_INSERT_RESERVATION = insert(reservations)
_INSERT_RESERVATION_LINES = insert(reservation_lines)
_SAVE_RESERVATION = (
    update(reservations)
    .where(reservations.c.order_id == bindparam("key"))
    .values({name: bindparam(name) for name in _RESERVATION_STATE})
)

_SELECT_CHOREOGRAPHED_ORDER = select(choreographed_orders.c.order_id).where(
    choreographed_orders.c.order_id == bindparam("order_id")
)
_INSERT_CHOREOGRAPHED_ORDER = insert(choreographed_orders)


def _to_stock(row: RowMapping) -> Stock:
    return Stock(row["sku"], *(row[name] for name in _STOCK_COUNTS))


class StockRepository:
    """The stock records, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(self, sku: str) -> None:
        """Give ``sku`` an empty record if it has none; two transactions doing so at once make one."""
        empty = {"sku": sku, **dict.fromkeys(_STOCK_COUNTS, 0)}
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(postgresql_insert(stock).values(empty).on_conflict_do_nothing())
        else:
            await self.session.execute(sqlite_insert(stock).values(empty).on_conflict_do_nothing())

    async def lock(self, skus: Collection[str]) -> dict[str, Stock]:
        """The records of ``skus`` that exist, locked (``FOR UPDATE``) in SKU order in one statement.

        One order for every transaction means none waits for a lock another holds while that one waits
        for its own. SQLite has no row locks and needs none: a writing transaction there has the database.
        """
        return await self._select(skus, for_update=True)

    async def read(self, skus: Collection[str]) -> dict[str, Stock]:
        return await self._select(skus, for_update=False)

    async def save(self, record: Stock) -> None:
        saved = await self.session.execute(
            _SAVE_STOCK, {"key": record.sku, **{name: getattr(record, name) for name in _STOCK_COUNTS}}
        )
        # An UPDATE's result is a cursor's, which counts the rows it changed.
        if cast("CursorResult[Any]", saved).rowcount != 1:
            raise LookupError(f"{record.sku} has no stock record to save to")

    async def _select(self, skus: Collection[str], *, for_update: bool) -> dict[str, Stock]:
        if not skus:
            return {}
        query = _LOCK_STOCK if for_update else _SELECT_STOCK
        rows = (await self.session.execute(query, {"skus": sorted(skus)})).mappings().all()
        return {row["sku"]: _to_stock(row) for row in rows}


def _reservation_row(reservation: Reservation) -> dict[str, Any]:
    return {
        "status": reservation.status.value,
        "reserved_at": reservation.reserved_at,
        "expires_at": reservation.expires_at,
        "picked_at": reservation.picked_at,
        "released_at": reservation.released_at,
        "dispatched_at": reservation.dispatched_at,
    }


class ReservationRepository:
    """Reservations and their lines, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str) -> Reservation | None:
        found = await self._load([order_id])
        return found[0] if found else None

    async def add(self, reservation: Reservation) -> None:
        try:
            await self.session.execute(
                _INSERT_RESERVATION, {"order_id": reservation.order_id, **_reservation_row(reservation)}
            )
        except IntegrityError as exc:
            # Only a reservation of the same order with other SKUs can get here at the same time: one
            # with any SKU in common waits for that SKU's lock, and then finds this order reserved.
            raise ReservationMismatchError(reservation.order_id) from exc
        await self.session.execute(
            _INSERT_RESERVATION_LINES,
            [
                {"order_id": reservation.order_id, "sku": line.sku, "quantity": line.quantity}
                for line in reservation.lines
            ],
        )

    async def save(self, reservation: Reservation) -> None:
        await self.session.execute(_SAVE_RESERVATION, {"key": reservation.order_id, **_reservation_row(reservation)})

    async def lapsed(self, *, skus: Collection[str], now: datetime) -> list[Reservation]:
        if not skus:
            return []
        order_ids = await self.session.execute(_SELECT_LAPSED_ORDER_IDS, {"skus": sorted(skus), "now": now})
        return await self._load(order_ids.scalars().all())

    async def _load(self, order_ids: Iterable[str]) -> list[Reservation]:
        """The reservations of ``order_ids``, in order-id order: two queries, however many there are."""
        ids = sorted(set(order_ids))
        if not ids:
            return []
        rows = (await self.session.execute(_SELECT_RESERVATIONS, {"order_ids": ids})).mappings().all()
        lines: dict[str, list[Line]] = {order_id: [] for order_id in ids}
        for line in await self.session.execute(_SELECT_RESERVATION_LINES, {"order_ids": ids}):
            lines[line.order_id].append(Line(line.sku, line.quantity))
        return [
            Reservation(
                order_id=row["order_id"],
                lines=tuple(lines[row["order_id"]]),
                reserved_at=row["reserved_at"],
                expires_at=row["expires_at"],
                status=ReservationStatus(row["status"]),
                picked_at=row["picked_at"],
                released_at=row["released_at"],
                dispatched_at=row["dispatched_at"],
            )
            for row in rows
        ]


class ReceiptRepository:
    """Receipts booked into stock, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, receipt_id: str) -> Receipt | None:
        row = (
            (await self.session.execute(select(receipts).where(receipts.c.receipt_id == receipt_id))).mappings().first()
        )
        return None if row is None else Receipt(row["receipt_id"], row["sku"], row["quantity"], row["received_at"])

    async def add(self, receipt: Receipt) -> None:
        try:
            await self.session.execute(
                insert(receipts).values(
                    receipt_id=receipt.receipt_id,
                    sku=receipt.sku,
                    quantity=receipt.quantity,
                    received_at=receipt.received_at,
                )
            )
        except IntegrityError as exc:
            # The same receipt id booked at the same moment for another SKU (for the same SKU, the
            # second waits for the first's lock and finds the receipt booked).
            raise ReceiptMismatchError(receipt.receipt_id) from exc


class ChoreographedOrderBook:
    """The orders whose fulfilment is choreographed, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def includes(self, order_id: str) -> bool:
        found = await self.session.execute(_SELECT_CHOREOGRAPHED_ORDER, {"order_id": order_id})
        return found.first() is not None

    async def add(self, order_id: str, *, requested_at: datetime) -> None:
        await self.session.execute(_INSERT_CHOREOGRAPHED_ORDER, {"order_id": order_id, "requested_at": requested_at})


@dataclass(frozen=True)
class _Records:
    """The warehouse's records in one session, and where the facts of their changes are told."""

    stock: StockRepository
    reservations: ReservationRepository
    receipts: ReceiptRepository
    announce: Announce[Fact]


def _records(session: AsyncSession, outbox: MessageWriter, *, caused_by: Envelope | None) -> _Records:
    # An event about an order is correlated with that order, whatever its cause (see announcements).
    announce = Announcer(session, outbox, event_of=event_of, correlation_of=correlation_of, caused_by=caused_by)
    return _Records(
        stock=StockRepository(session),
        reservations=ReservationRepository(session),
        receipts=ReceiptRepository(session),
        announce=announce,
    )


class Transactions:
    """Units of work that are transactions of their own in the warehouse's database: an HTTP request's.

    Their events name the request as their cause (paved's request context).
    """

    def __init__(self, database: Database, outbox: MessageWriter) -> None:
        self.database = database
        self.outbox = outbox

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Records]:
        async with self.database.transaction() as session:
            yield _records(session, self.outbox, caused_by=None)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Records]:
        async with self.database.read() as session:
            yield _records(session, self.outbox, caused_by=None)


class HandlingTransaction:
    """Units of work that are all the transaction a message is handled in: the consumer commits it, with
    the message's inbox row, once the handler returns. Their events name the message as their cause."""

    def __init__(self, handling: Handling) -> None:
        self._records = _records(handling.session, handling.outbox, caused_by=handling.envelope)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Records]:
        yield self._records

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Records]:
        yield self._records
