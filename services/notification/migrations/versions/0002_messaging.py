"""paved's outbox, inbox and pending-request tables (the inbox makes a redelivered event mails nothing twice).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from paved.messaging import create_messaging_tables, drop_messaging_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
