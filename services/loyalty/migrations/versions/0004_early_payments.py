"""Payment events heard before their order's FulfilmentRequested, kept so that the request catches up.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_payments",
        sa.Column("partition_no", sa.SmallInteger, primary_key=True),
        sa.Column("customer_id", sa.String(100), primary_key=True),
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("early_payments")
