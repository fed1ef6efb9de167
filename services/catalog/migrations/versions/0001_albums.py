"""The albums table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("sku", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("artist", sa.String(300), nullable=False),
        sa.Column("genre", sa.String(60), nullable=False),
        sa.Column("released", sa.Integer, nullable=False),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.CheckConstraint("price_minor > 0", name="price_is_positive"),
    )
    op.create_index("ix_albums_genre", "albums", ["genre"])


def downgrade() -> None:
    op.drop_index("ix_albums_genre", table_name="albums")
    op.drop_table("albums")
