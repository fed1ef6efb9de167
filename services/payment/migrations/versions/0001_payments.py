"""Payments, their history, the commands waiting for their answers, and cancelled orders.

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

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", _ID, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        # Sealed (AES-GCM) and only while a charge may still be sent; never the number in the clear.
        sa.Column("sealed_card", sa.LargeBinary),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("charge_id", sa.String(64)),
        sa.Column("decline_code", sa.String(64)),
        sa.Column("failure_reason", sa.String(500)),
        sa.Column("refund_id", sa.String(64)),
        sa.Column("refund_requested", sa.Boolean, nullable=False),
        sa.Column("unresolved", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("refunded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("amount_minor > 0", name="payment_amount_is_positive"),
        sa.CheckConstraint(
            "status IN ('charging', 'taken', 'declined', 'failed', 'refunding', 'refunded', 'cancelled')",
            name="payment_status_is_known",
        ),
    )
    # The worker's question, many times a second: which step is due next.
    op.create_index("ix_payments_next_attempt_at", "payments", ["next_attempt_at"])
    op.create_table(
        "payment_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("payments.order_id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_index("ix_payment_history_order_id", "payment_history", ["order_id"])
    op.create_table(
        "payment_askers",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("question", sa.String(8), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("reply_to", sa.String(255)),
        sa.Column("traceparent", sa.String(128)),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_payment_askers_order_id", "payment_askers", ["order_id"])
    op.create_table(
        "payment_cancellations",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payment_cancellations")
    op.drop_index("ix_payment_askers_order_id", table_name="payment_askers")
    op.drop_table("payment_askers")
    op.drop_index("ix_payment_history_order_id", table_name="payment_history")
    op.drop_table("payment_history")
    op.drop_index("ix_payments_next_attempt_at", table_name="payments")
    op.drop_table("payments")
