"""identity's own tables (what its Alembic migrations read). Nobody else reads them; ``store.py`` maps them.

They hold password hashes, refresh-token hashes and private signing keys: of all the shop's databases,
this is the one that must stay hidden.
"""

from __future__ import annotations

from paved import UtcDateTime
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(40), nullable=False, index=True),
    Column("account_id", String(40), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(1000), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    # Ascending with every key added: "newest" is by this, not by a clock that may tie or step back.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kid", String(100), nullable=False, unique=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
