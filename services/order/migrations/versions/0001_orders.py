"""Orders, their lines and history, the commands sent for them, and sealed cards awaiting payment.

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


def _order_id() -> sa.Column:
    return sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("delivery_address_id", sa.String(100), nullable=False),
        sa.Column("delivery_name", sa.String(200), nullable=False),
        sa.Column("delivery_lines", sa.JSON, nullable=False),
        sa.Column("delivery_city", sa.String(200), nullable=False),
        sa.Column("delivery_postcode", sa.String(32), nullable=False),
        sa.Column("delivery_country", sa.String(2), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("points_awarded", sa.Integer),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_idempotency_key"),
    )
    op.create_index("ix_orders_customer_newest", "orders", ["customer_id", "placed_at", "id"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("artist", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "order_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        _order_id(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("event", sa.String(60), nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_order_history_order_id", "order_history", ["order_id"])
    op.create_table(
        "order_commands",
        sa.Column("request_id", sa.String(64), primary_key=True),
        _order_id(),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_commands_order_id", "order_commands", ["order_id"])
    op.create_table(
        "payment_cards",
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sealed_card", sa.LargeBinary, nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payment_cards")
    op.drop_index("ix_order_commands_order_id", table_name="order_commands")
    op.drop_table("order_commands")
    op.drop_index("ix_order_history_order_id", table_name="order_history")
    op.drop_table("order_history")
    op.drop_table("order_lines")
    op.drop_index("ix_orders_customer_newest", table_name="orders")
    op.drop_table("orders")
