"""The payment service's own tables (the queries over them are in ``store.py``). Nobody else reads them."""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

payments = Table(
    "payments",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("amount_minor", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("sealed_card", LargeBinary),
    Column("status", String(16), nullable=False),
    Column("charge_id", String(64)),
    Column("decline_code", String(64)),
    Column("failure_reason", String(500)),
    Column("refund_id", String(64)),
    Column("refund_requested", Boolean, nullable=False),
    Column("unresolved", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, index=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("refunded_at", UtcDateTime),
)

payment_history = Table(
    "payment_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(64), ForeignKey("payments.order_id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", String(500), nullable=False),
)

payment_askers = Table(
    "payment_askers",
    metadata,
    Column("message_id", String(64), primary_key=True),  # the command's envelope id (``Asker.id``)
    Column("order_id", String(64), nullable=False, index=True),
    Column("question", String(8), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("reply_to", String(255)),
    Column("traceparent", String(128)),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
)

payment_cancellations = Table(
    "payment_cancellations",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("cancelled_at", UtcDateTime, nullable=False),
)

# What was heard of each order's choreographed fulfilment (choreography/domain.py): the card KeepCard brought,
# the stock reserved, the order's end. A row without ``card_kept_at`` is an order that sent no card (yet).
payment_choreographies = Table(
    "payment_choreographies",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("heard_at", UtcDateTime, nullable=False),
    Column("customer_id", String(64)),
    Column("amount_minor", BigInteger().with_variant(Integer, "sqlite")),
    Column("currency", String(3)),
    Column("sealed_card", LargeBinary),
    Column("card_kept_at", UtcDateTime),
    Column("stock_reserved_at", UtcDateTime),
    Column("payment_asked_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
)

# paved's outbox and inbox live in the payment service's own database, beside its payments.
messaging = messaging_tables(metadata)
