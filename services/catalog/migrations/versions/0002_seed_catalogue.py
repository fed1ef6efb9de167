"""The seed catalogue: the albums the shop opens with (catalog/seed/albums.json).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from importlib.resources import files

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The table as this revision knows it: a migration never imports the live model, which moves on.
albums = sa.table(
    "albums",
    sa.column("sku", sa.String),
    sa.column("title", sa.String),
    sa.column("artist", sa.String),
    sa.column("genre", sa.String),
    sa.column("released", sa.Integer),
    sa.column("price_minor", sa.Integer),
    sa.column("currency", sa.String),
)


def _seed() -> list[dict[str, object]]:
    return json.loads(files("catalog.seed").joinpath("albums.json").read_text(encoding="utf-8"))


def upgrade() -> None:
    op.bulk_insert(albums, _seed())


def downgrade() -> None:
    skus = [row["sku"] for row in _seed()]
    op.execute(albums.delete().where(albums.c.sku.in_(skus)))
