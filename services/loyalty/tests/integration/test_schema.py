from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from paved import Database, Service
from paved.migrations import alembic_config
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from loyalty.tables import metadata

from .conftest import MIGRATIONS


async def test_the_migrations_build_the_tables_the_store_declares(service: Service) -> None:
    """Migrated from nothing, the database has exactly the tables, columns and keys tables.py declares."""

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with service.database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_choreographed_orders_revision_goes_down_and_up_again(database_url: str) -> None:
    """Downgraded to 0002 the choreographed orders' table is gone, and upgrading again brings it back."""
    config = alembic_config(migrations_dir=MIGRATIONS, database_url=database_url)

    async def tables() -> set[str]:
        database = Database(database_url)
        await database.start()
        try:
            async with database.engine.connect() as connection:
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await database.stop()

    await asyncio.to_thread(command.downgrade, config, "0002")
    assert "choreographed_orders" not in await tables() and "points_entries" in await tables()
    await asyncio.to_thread(command.upgrade, config, "head")
    assert "choreographed_orders" in await tables()
