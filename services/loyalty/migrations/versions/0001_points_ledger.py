"""The points ledger, partitioned by customer: accounts, entries, and the layout's partition count.

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


def upgrade() -> None:
    op.create_table(
        "points_accounts",
        sa.Column("partition_no", sa.SmallInteger, primary_key=True),
        sa.Column("customer_id", sa.String(100), primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name="balance_never_negative"),
    )
    op.create_table(
        "points_entries",
        sa.Column("partition_no", sa.SmallInteger, primary_key=True),
        sa.Column("customer_id", sa.String(100), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partition_no", "customer_id"], ["points_accounts.partition_no", "points_accounts.customer_id"]
        ),
        sa.UniqueConstraint("partition_no", "customer_id", "order_id", "kind", name="uq_points_entries_order_kind"),
        sa.CheckConstraint("kind IN ('award', 'revoke')", name="kind_is_known"),
        sa.CheckConstraint("points >= 0", name="points_not_negative"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_never_negative"),
    )
    op.create_table(
        "ledger_layout",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partitions", sa.Integer, nullable=False),
        sa.Column("laid_out_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_layout")
    op.drop_table("points_entries")
    op.drop_table("points_accounts")
