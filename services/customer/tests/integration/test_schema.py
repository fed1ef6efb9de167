from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from paved import Service
from sqlalchemy.engine import Connection

from customer.tables import metadata


async def test_the_migrations_build_the_tables_the_store_declares(service: Service) -> None:
    """Migrated from nothing, the database has exactly the tables, columns and indexes tables.py declares."""

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with service.database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
