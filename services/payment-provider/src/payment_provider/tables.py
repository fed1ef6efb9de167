"""The processor's own tables (what its Alembic migrations read); ``store.py`` maps them.

Only the last four digits of a card are a column: the full number is never written anywhere.
"""

from __future__ import annotations

from paved import UtcDateTime
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, String, Table

metadata = MetaData()

charges = Table(
    "charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("reference", String(200), nullable=False, index=True),
    Column("amount_minor", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decline_code", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("charge_id", String(40), ForeignKey("charges.id"), nullable=False, index=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("amount_minor", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
