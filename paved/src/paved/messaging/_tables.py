"""The tables paved keeps in each service's own database: outbox, inbox and pending requests.

A service includes them in its metadata with ``messaging_tables(metadata)`` and creates them in one of
its migrations with ``create_messaging_tables()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, String, Table

OUTBOX = "paved_outbox"
INBOX = "paved_inbox"
REQUESTS = "paved_requests"


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    requests: Table


def _outbox_columns() -> list[Column[object]]:
    return [
        # The order messages were written in, which is the order they are published in.
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("id", String(64), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("headers", JSON, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ]


def _inbox_columns() -> list[Column[object]]:
    return [
        Column("consumer", String(120), primary_key=True),
        Column("message_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    ]


def _requests_columns() -> list[Column[object]]:
    return [
        Column("id", String(64), primary_key=True),  # the command's message id
        Column("command_type", String(200), nullable=False),
        Column("correlation_id", String(64), nullable=False),
        # Milliseconds since the epoch: compared in SQL alike on every database.
        Column("deadline_ms", BigInteger, nullable=False, index=True),
        Column("state", String(16), nullable=False),  # pending | replied | timed_out
    ]


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add paved's messaging tables to a service's ``metadata``."""
    return MessagingTables(
        outbox=Table(OUTBOX, metadata, *_outbox_columns()),
        inbox=Table(INBOX, metadata, *_inbox_columns()),
        requests=Table(REQUESTS, metadata, *_requests_columns()),
    )


def create_messaging_tables() -> None:
    """Create the messaging tables; call from a service's Alembic revision's ``upgrade()``."""
    op.create_table(OUTBOX, *_outbox_columns())
    op.create_table(INBOX, *_inbox_columns())
    op.create_table(REQUESTS, *_requests_columns())


def drop_messaging_tables() -> None:
    op.drop_table(REQUESTS)
    op.drop_table(INBOX)
    op.drop_table(OUTBOX)
