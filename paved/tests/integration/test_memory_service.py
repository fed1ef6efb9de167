"""paved's services on the in-process broker (``memory://``): the outbox, the inbox and a followed stream, no NATS."""

from __future__ import annotations

from pathlib import Path

from paved.messaging._memory import memory_broker_for_test
from paved.testing import create_tables, eventually
from shop import count_points, orders_metadata, orders_service, place_order, points_metadata, points_service


async def test_an_event_reaches_a_follower_once_through_the_memory_broker(tmp_path: Path) -> None:
    """An order's event goes through the outbox to a consumer of the followed stream and has one effect,
    in one process, with the follower started before the stream's owner declared it."""
    orders_url, points_url = f"sqlite+aiosqlite:///{tmp_path}/orders.db", f"sqlite+aiosqlite:///{tmp_path}/points.db"
    await create_tables(orders_url, orders_metadata)
    await create_tables(points_url, points_metadata)
    with memory_broker_for_test() as broker:
        points = points_service(database_url=points_url, broker_url=broker.url)
        orders = orders_service(database_url=orders_url, broker_url=broker.url)
        async with points.running(), orders.running():
            for n in range(5):
                await place_order(orders, f"order-{n}")

            async def all_awarded() -> bool:
                return await count_points(points) == (5, 5)

            assert await eventually(all_awarded, timeout=10)
