from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import make_url, text

from paved.database import Database
from paved.testing import POSTGRES_URL, postgres_database

pytestmark = pytest.mark.postgres


async def test_a_service_database_is_hidden_from_other_roles(postgres_available: None) -> None:
    """Each service gets its own role and database; another service's role cannot connect to it."""
    async with postgres_database("paved_a") as url_a, postgres_database("paved_b") as url_b:
        database = Database(url_a)
        await database.start()
        try:
            assert await database.ping()
            async with database.transaction() as session:
                await session.execute(text("CREATE TABLE t (x int)"))
        finally:
            await database.stop()
        a, b = make_url(url_a), make_url(url_b)
        server = make_url(POSTGRES_URL)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(
                host=server.host, port=server.port, user=b.username, database=a.database
            )
