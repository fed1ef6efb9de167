"""order's own tables. Only ``store.py`` (and the migrations, which must build the same) use them."""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from paved.sagas import saga_tables
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(100), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delivery_address_id", String(100), nullable=False),
    Column("delivery_name", String(200), nullable=False),
    Column("delivery_lines", JSON, nullable=False),
    Column("delivery_city", String(200), nullable=False),
    Column("delivery_postcode", String(32), nullable=False),
    Column("delivery_country", String(2), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("fulfilment", String(16), nullable=False),  # orchestrated | choreographed
    Column("points_awarded", Integer),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What makes placing idempotent: one order per customer and key, however many requests race.
    UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_idempotency_key"),
    Index("ix_orders_customer_newest", "customer_id", "placed_at", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(40), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("sku", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("artist", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
)

order_history = Table(
    "order_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(40), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("event", String(60), nullable=False),
    Column("reason", Text),
)

# Card numbers, sealed (order.cards), only until payment can no longer be asked for their order.
payment_cards = Table(
    "payment_cards",
    metadata,
    Column("order_id", String(40), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_card", LargeBinary, nullable=False),
    Column("kept_at", UtcDateTime, nullable=False),
)

# paved's outbox, inbox and pending requests, and its sagas, live in order's own database.
messaging = messaging_tables(metadata)
sagas = saga_tables(metadata)
