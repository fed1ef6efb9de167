from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from paved import Database
from paved.migrations import alembic_config
from sqlalchemy.engine import Connection

from payment.tables import metadata

from .conftest import MIGRATIONS


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_the_migrations_make_the_tables_the_code_maps(database_url: str) -> None:
    """After the migrations, the database has exactly the tables, columns and indexes store.py declares."""
    database = Database(database_url)
    await database.start()
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await database.stop()


async def test_the_migrations_go_down_and_up_again(database_url: str) -> None:
    """Every migration can be undone, and done again."""
    config = alembic_config(migrations_dir=MIGRATIONS, database_url=database_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
