from __future__ import annotations

import asyncio

import asyncpg
import pytest
from paved_platform.nats import EmbeddedNats
from sqlalchemy import make_url, text

from paved._database import Database
from paved.testing import POSTGRES_URL, create_tables, postgres_database
from shop import OrderPlaced, count_points, declare, eventually, points_metadata, points_service, publish

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
            await asyncpg.connect(host=server.host, port=server.port, user=b.username, database=a.database)


async def test_the_inbox_on_postgresql_has_each_effect_once(postgres_available: None, broker: EmbeddedNats) -> None:
    """The consumer's batch inbox statement (INSERT … ON CONFLICT DO NOTHING RETURNING, many rows) on
    PostgreSQL: distinct events each have an effect, a copy (twice in one batch) has none."""
    copied = OrderPlaced(order_id="copied", total_minor=300).envelope()
    async with postgres_database("paved_points") as url:
        await create_tables(url, points_metadata)
        points = points_service(database_url=url, broker_url=broker.url)
        await declare(broker.url, points)
        for n in range(20):
            event = OrderPlaced(order_id=f"order-{n}", total_minor=100).envelope()
            await publish(broker.url, "orders.placed", event.to_bytes(), envelope=event)
        for copy in range(2):
            await publish(
                broker.url, "orders.placed", copied.to_bytes(), envelope=copied, broker_id=f"{copied.id}-{copy}"
            )
        async with points.running():

            async def all_awarded() -> bool:
                return await count_points(points) == (21, 21)

            assert await eventually(all_awarded), await count_points(points)
            await asyncio.sleep(0.5)  # time for a second effect of the copy to (not) appear
            assert await count_points(points) == (21, 21)
