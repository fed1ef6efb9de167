"""The catalog's own tables: what its migrations build and ``store.py`` reads. Nobody else reads them."""

from __future__ import annotations

from paved.messaging import messaging_tables
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()

albums = Table(
    "albums",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("artist", String(300), nullable=False),
    Column("genre", String(60), nullable=False, index=True),
    Column("released", Integer, nullable=False),
    Column("price_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)

# paved's outbox and inbox live in the catalog's own database, beside its albums.
messaging = messaging_tables(metadata)
