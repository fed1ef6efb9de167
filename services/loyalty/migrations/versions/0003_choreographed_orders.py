"""The orders whose fulfilment is choreographed, in their customer's partition beside the ledger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "choreographed_orders",
        sa.Column("partition_no", sa.SmallInteger, primary_key=True),
        sa.Column("customer_id", sa.String(100), primary_key=True),
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name="total_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("choreographed_orders")
