"""The warehouse's own tables, and the repositories that map them onto the domain. Nobody else reads them.

The tables check the accounting themselves (no count below zero, available + reserved + dispatched =
received, never released and dispatched both): a defect elsewhere fails its transaction instead of
storing stock that does not add up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from paved.messaging import messaging_tables
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse.domain import (
    Line,
    Receipt,
    ReceiptMismatchError,
    Reservation,
    ReservationMismatchError,
    ReservationStatus,
    Stock,
)
from warehouse.operations import Announce, Clock, Warehouse


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    SQLite keeps no zone: it is given UTC and read back as UTC, and its text compares in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

stock = Table(
    "stock",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("received", Integer, nullable=False),
    Column("available", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("dispatched", Integer, nullable=False),
    CheckConstraint("available >= 0 AND reserved >= 0 AND dispatched >= 0", name="stock_never_negative"),
    CheckConstraint("available + reserved + dispatched = received", name="stock_accounted_for"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", String(64), primary_key=True),
    Column("sku", String(32), ForeignKey("stock.sku"), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    CheckConstraint("quantity > 0", name="receipt_quantity_positive"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reserved_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("picked_at", UtcDateTime),
    Column("released_at", UtcDateTime),
    Column("dispatched_at", UtcDateTime),
    CheckConstraint(
        "status IN ('held', 'picked', 'dispatched', 'released', 'expired')", name="reservation_status_known"
    ),
    CheckConstraint("released_at IS NULL OR dispatched_at IS NULL", name="released_or_dispatched_not_both"),
    # Finds lapsed holds: held, and past their time.
    Index("ix_reservations_status_expires_at", "status", "expires_at"),
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("order_id", String(64), ForeignKey("reservations.order_id"), primary_key=True),
    Column("sku", String(32), ForeignKey("stock.sku"), primary_key=True),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="line_quantity_positive"),
    Index("ix_reservation_lines_sku", "sku"),
)

# The orders whose fulfilment is choreographed, learnt from order.FulfilmentRequested: the warehouse
# reacts to payment's and order's events for these orders only (the others are driven by commands).
choreographed_orders = Table(
    "choreographed_orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime, nullable=False),
)

# paved's outbox and inbox live in the warehouse's own database, beside its stock.
messaging = messaging_tables(metadata)

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
        if saved.rowcount != 1:  # type: ignore[attr-defined]
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


def warehouse_in(session: AsyncSession, *, announce: Announce, clock: Clock) -> Warehouse:
    """The warehouse's operations over ``session``'s transaction."""
    return Warehouse(
        stock=StockRepository(session),
        reservations=ReservationRepository(session),
        receipts=ReceiptRepository(session),
        announce=announce,
        clock=clock,
    )
