"""notification's tables: its emails, and paved's outbox and inbox beside them (what its migrations make)."""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

emails = Table(
    "emails",
    metadata,
    # The order emails were queued in: newest first is highest first, and the paging cursor.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("recipient", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    # One email per event, beside the inbox: a duplicate that got past it fails loudly instead of mailing twice.
    Column("event_id", String(64), nullable=False, unique=True),
    Column("order_id", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_emails_recipient_seq", "recipient", "seq"),
    Index("ix_emails_status_next_attempt_at", "status", "next_attempt_at"),
)

# paved's outbox and inbox live in notification's own database, beside its emails.
messaging = messaging_tables(metadata)
