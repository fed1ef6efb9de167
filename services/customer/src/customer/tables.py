"""The customer service's own tables: what its migrations build and ``store.py`` reads. Nobody else reads them."""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from sqlalchemy import JSON, Column, ForeignKey, Index, MetaData, String, Table

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(100), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("city", String(100), nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_addresses_customer_id", "customer_id", "added_at"),
)

# paved's outbox and inbox live in the customer service's own database, beside its customers.
messaging = messaging_tables(metadata)
