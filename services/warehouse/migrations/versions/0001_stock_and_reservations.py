"""Stock per SKU, receipts, reservations and their lines.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("sku", sa.String(32), primary_key=True),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("available", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("dispatched", sa.Integer, nullable=False),
        sa.CheckConstraint("available >= 0 AND reserved >= 0 AND dispatched >= 0", name="stock_never_negative"),
        sa.CheckConstraint("available + reserved + dispatched = received", name="stock_accounted_for"),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(32), sa.ForeignKey("stock.sku"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="receipt_quantity_positive"),
    )
    op.create_index("ix_receipts_sku", "receipts", ["sku"])
    op.create_table(
        "reservations",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reserved_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("picked_at", _utc()),
        sa.Column("released_at", _utc()),
        sa.Column("dispatched_at", _utc()),
        sa.CheckConstraint(
            "status IN ('held', 'picked', 'dispatched', 'released', 'expired')", name="reservation_status_known"
        ),
        sa.CheckConstraint("released_at IS NULL OR dispatched_at IS NULL", name="released_or_dispatched_not_both"),
    )
    op.create_index("ix_reservations_status_expires_at", "reservations", ["status", "expires_at"])
    op.create_table(
        "reservation_lines",
        sa.Column("order_id", sa.String(64), sa.ForeignKey("reservations.order_id"), primary_key=True),
        sa.Column("sku", sa.String(32), sa.ForeignKey("stock.sku"), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0", name="line_quantity_positive"),
    )
    op.create_index("ix_reservation_lines_sku", "reservation_lines", ["sku"])


def downgrade() -> None:
    op.drop_index("ix_reservation_lines_sku", table_name="reservation_lines")
    op.drop_table("reservation_lines")
    op.drop_index("ix_reservations_status_expires_at", table_name="reservations")
    op.drop_table("reservations")
    op.drop_index("ix_receipts_sku", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("stock")
