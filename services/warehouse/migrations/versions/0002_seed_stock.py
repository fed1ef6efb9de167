"""The opening stock: a quantity of each SKU the catalog opened with (warehouse/seed/opening_stock.json).

Each opening quantity is booked as a receipt, so that what was received always adds up to the receipts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPENED_AT = datetime(2026, 11, 25, tzinfo=UTC)

# The tables as this revision knows them: a migration never imports the live model, which moves on.
stock = sa.table(
    "stock",
    sa.column("sku", sa.String),
    sa.column("received", sa.Integer),
    sa.column("available", sa.Integer),
    sa.column("reserved", sa.Integer),
    sa.column("dispatched", sa.Integer),
)
receipts = sa.table(
    "receipts",
    sa.column("receipt_id", sa.String),
    sa.column("sku", sa.String),
    sa.column("quantity", sa.Integer),
    sa.column("received_at", sa.DateTime(timezone=True)),
)


def _opening_stock() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        files("warehouse.seed").joinpath("opening_stock.json").read_text(encoding="utf-8")
    )
    return rows


def _receipt_id(sku: str) -> str:
    return f"opening-{sku}"


def upgrade() -> None:
    # SQLite stores no zone: UTC without one, as the service's own column type writes it.
    opened_at = OPENED_AT.replace(tzinfo=None) if op.get_context().dialect.name == "sqlite" else OPENED_AT
    seed = _opening_stock()
    op.bulk_insert(
        stock,
        [
            {
                "sku": row["sku"],
                "received": row["quantity"],
                "available": row["quantity"],
                "reserved": 0,
                "dispatched": 0,
            }
            for row in seed
        ],
    )
    op.bulk_insert(
        receipts,
        [
            {
                "receipt_id": _receipt_id(row["sku"]),
                "sku": row["sku"],
                "quantity": row["quantity"],
                "received_at": opened_at,
            }
            for row in seed
            if row["quantity"]  # a SKU that opens sold out has a record, and nothing received
        ],
    )


def downgrade() -> None:
    seed = _opening_stock()
    op.execute(receipts.delete().where(receipts.c.receipt_id.in_([_receipt_id(row["sku"]) for row in seed])))
    op.execute(stock.delete().where(stock.c.sku.in_([row["sku"] for row in seed])))
