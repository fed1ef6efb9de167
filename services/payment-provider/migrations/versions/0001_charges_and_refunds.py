"""Charges and their refunds, each under its idempotency key.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
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
        "charges",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        # The last four digits only: the full card number is never stored.
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decline_code", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="charge_amount_is_positive"),
        sa.CheckConstraint("status IN ('succeeded', 'declined')", name="charge_status_is_known"),
    )
    op.create_index("ix_charges_reference", "charges", ["reference"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("charge_id", sa.String(40), sa.ForeignKey("charges.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("amount_minor", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="refund_amount_is_positive"),
    )
    op.create_index("ix_refunds_charge_id", "refunds", ["charge_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_charge_id", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_charges_reference", table_name="charges")
    op.drop_table("charges")
