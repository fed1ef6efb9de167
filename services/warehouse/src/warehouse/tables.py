"""The warehouse's own tables (what its migrations build); nobody else reads them.

The tables check the accounting themselves (no count below zero, available + reserved + dispatched =
received, never released and dispatched both): a defect elsewhere fails its transaction instead of
storing stock that does not add up.
"""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, MetaData, String, Table

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
