"""Real parts for tests: a throwaway JetStream server and throwaway PostgreSQL databases.

Service tests use these instead of fakes wherever the behaviour of the real part matters.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import MetaData, make_url

from paved.context import new_id
from paved.database import Database
from paved.platform.nats import start_nats

POSTGRES_URL = os.environ.get("PAVED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def running_nats() -> Iterator[str]:
    """A JetStream server on a free port with its own store; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="paved-nats-") as folder:
        nats = start_nats(state_dir=Path(folder), log_path=Path(folder) / "nats.log")
        try:
            yield nats.url
        finally:
            nats.stop()


async def postgres_is_reachable(admin_url: str = POSTGRES_URL) -> bool:
    import asyncpg  # noqa: PLC0415 - only the PostgreSQL tests need it

    try:
        connection = await asyncio.wait_for(asyncpg.connect(admin_url), timeout=3)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


@asynccontextmanager
async def postgres_database(prefix: str, admin_url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """A new database owned by a new role, as in production (one of each per service); dropped after.

    Yields the SQLAlchemy URL the service would get: that role, that database, nothing else.
    """
    import asyncpg  # noqa: PLC0415

    name = f"{prefix}_{new_id()[:10]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE ROLE "{name}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
        # Hide the database: only its own role may connect.
        await admin.execute(f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC')
        server = make_url(admin_url)
        yield str(
            server.set(drivername="postgresql+asyncpg", username=name, password=None, database=name)
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


async def create_tables(database_url: str, metadata: MetaData) -> None:
    """Create ``metadata``'s tables, for tests and benchmarks that need no migrations."""
    database = Database(database_url)
    await database.start()
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    finally:
        await database.stop()
