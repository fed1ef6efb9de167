"""What was heard of each order's choreographed fulfilment: its card (KeepCard), its stock, its end.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
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
        "payment_choreographies",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("heard_at", sa.DateTime(timezone=True), nullable=False),
        # The terms and card, from KeepCard: none for an order that sent no card (an orchestrated one).
        sa.Column("customer_id", sa.String(64)),
        sa.Column("amount_minor", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
        sa.Column("currency", sa.String(3)),
        # Sealed (AES-GCM), and only until it goes to the payment or the order ends.
        sa.Column("sealed_card", sa.LargeBinary),
        sa.Column("card_kept_at", sa.DateTime(timezone=True)),
        sa.Column("stock_reserved_at", sa.DateTime(timezone=True)),
        sa.Column("payment_asked_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("amount_minor > 0", name="choreography_amount_is_positive"),
        sa.CheckConstraint(
            "card_kept_at IS NOT NULL OR (sealed_card IS NULL AND customer_id IS NULL)",
            name="choreography_card_comes_with_keep_card",
        ),
    )


def downgrade() -> None:
    op.drop_table("payment_choreographies")
