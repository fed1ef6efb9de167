from __future__ import annotations

import asyncio
import json
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from paved.migrations import alembic_config, upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine as create_engine

from warehouse import tables

MIGRATIONS = Path(__file__).parents[2] / "migrations"


async def _schema_drift(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def drift(sync: Connection) -> list[object]:
                return list(compare_metadata(MigrationContext.configure(sync), tables.metadata))

            return await connection.run_sync(drift)
    finally:
        await engine.dispose()


async def _opening_stock(database_url: str) -> dict[str, tuple[int, int, int]]:
    """Each SKU's (received, available, sum of its receipts), as the database has them."""
    engine = create_engine(database_url)
    receipted = (
        select(tables.receipts.c.sku, func.sum(tables.receipts.c.quantity).label("total"))
        .group_by(tables.receipts.c.sku)
        .subquery()
    )
    query = select(tables.stock.c.sku, tables.stock.c.received, tables.stock.c.available, receipted.c.total).outerjoin(
        receipted, receipted.c.sku == tables.stock.c.sku
    )
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    return {row.sku: (row.received, row.available, row.total or 0) for row in rows}


async def test_the_migrations_build_exactly_what_the_tables_declare(database_url: str) -> None:
    """Migrated from nothing, the database has the tables, columns, types and indexes tables.py declares."""
    assert await _schema_drift(database_url) == []


async def test_the_opening_stock_is_the_seed_and_adds_up_to_its_receipts(database_url: str) -> None:
    """Every seeded SKU has its opening quantity available, booked as a receipt (none for those sold out)."""
    seed = json.loads(files("warehouse.seed").joinpath("opening_stock.json").read_text(encoding="utf-8"))
    opening = await _opening_stock(database_url)
    assert len(seed) == 292
    assert opening == {row["sku"]: (row["quantity"], row["quantity"], row["quantity"]) for row in seed}
    assert sum(1 for received, _, _ in opening.values() if received == 0) == 29


async def test_the_migrations_go_down_and_up_again(database_url: str) -> None:
    """Downgrading to nothing and upgrading again ends where a fresh database starts."""
    before = await _opening_stock(database_url)
    config = alembic_config(migrations_dir=MIGRATIONS, database_url=database_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=database_url)
    assert await _opening_stock(database_url) == before
    assert await _schema_drift(database_url) == []
