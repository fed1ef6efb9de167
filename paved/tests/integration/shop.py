"""Two tiny services for the messaging tests: `orders` publishes OrderPlaced, `points` consumes it.

Also runnable as a process (`python shop.py ROLE`), so tests can SIGKILL it at chosen moments.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from paved import Service, ServiceSettings
from paved._envelope import Envelope
from paved.messaging import Event, Handling, MessagingTables, Stream, messaging_tables
from paved.messaging._brokers import connected
from paved.messaging._transport import DeadLetter, Outgoing


class OrderPlaced(Event, type="orders.OrderPlaced", version=1, subject="orders.placed"):
    order_id: str
    total_minor: int


class OrderPlacedV2(Event, type="orders.OrderPlaced", version=2, subject="orders.placed"):
    order_id: str
    total: str


# Not "orders.>": that would take the replies of the orders service of test_requests (orders.replies).
ORDERS = Stream("ORDERS", subjects=["orders.placed", "orders.shipped"])

orders_metadata = MetaData()
orders = Table("orders", orders_metadata, Column("id", String, primary_key=True), Column("total_minor", Integer))
orders_messaging = messaging_tables(orders_metadata)

points_metadata = MetaData()
points = Table("points", points_metadata, Column("order_id", String), Column("points", Integer))
points_messaging = messaging_tables(points_metadata)


def messaging_service(name: str, tables: MessagingTables, *, database_url: str, broker_url: str) -> Service:
    """A bare paved Service with messaging, on the given database and broker."""
    return Service(
        name=name,
        version="0",
        settings=ServiceSettings(database_url=database_url, broker_url=broker_url),
        messaging=tables,
    )


def orders_service(*, database_url: str, broker_url: str) -> Service:
    service = messaging_service("orders", orders_messaging, database_url=database_url, broker_url=broker_url)
    service.messaging.own(ORDERS)
    return service


async def place_order(service: Service, order_id: str, total_minor: int = 1000) -> None:
    """The state change and its event, in one transaction."""
    async with service.database.transaction() as session:
        await session.execute(insert(orders).values(id=order_id, total_minor=total_minor))
        await service.messaging.outbox.put(session, OrderPlaced(order_id=order_id, total_minor=total_minor))


def points_service(*, database_url: str, broker_url: str, fail_orders: set[str] = frozenset()) -> Service:
    service = messaging_service("points", points_messaging, database_url=database_url, broker_url=broker_url)
    consumer = service.messaging.consumer(
        "points-orders",
        stream=service.messaging.follow("ORDERS"),
        subjects=ORDERS.subjects,
        max_deliver=3,
        backoff_seconds=(0.1, 0.2),
        ack_wait_seconds=3.0,  # so a delivery lost with a killed consumer comes back within the test
    )

    @consumer.handles(OrderPlaced)
    async def award_points(handling: Handling, event: OrderPlaced) -> None:
        if event.order_id in fail_orders:
            raise RuntimeError(f"cannot award points for {event.order_id}")
        await handling.session.execute(insert(points).values(order_id=event.order_id, points=event.total_minor // 100))

    return service


async def count_points(service: Service) -> tuple[int, int]:
    """(rows, distinct orders) in the points table: equal when every effect happened once."""
    async with service.database.transaction() as session:
        rows = (await session.execute(select(func.count()).select_from(points))).scalar_one()
        distinct = (await session.execute(select(func.count(points.c.order_id.distinct())))).scalar_one()
    return rows, distinct


async def eventually(check, *, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def dead_letters(url: str) -> list[DeadLetter]:
    """Every parked message, as the broker has it."""
    async with connected(url) as transport:
        return await transport.dead_letters()


async def publish(
    url: str, subject: str, body: bytes, *, envelope: Envelope | None = None, broker_id: str | None = None
) -> None:
    """Put a message on the broker as any publisher might, bypassing an outbox.

    ``broker_id`` is the broker's de-duplication id (the envelope's id unless given).
    """
    headers = envelope.headers() if envelope else {}
    message_id = broker_id or (envelope.id if envelope else Envelope.new("x", {}).id)
    async with connected(url) as transport:
        await transport.publish([Outgoing(message_id, subject, body, headers)])


async def declare(url: str, service: Service) -> None:
    """Create the service's streams and consumers before it runs (what `paved prepare` does)."""
    async with connected(url) as transport:
        await service.messaging.declare(transport)


async def _main(role: str) -> None:
    database_url, broker_url = os.environ["SHOP_DATABASE_URL"], os.environ["SHOP_BROKER_URL"]
    if role == "write-and-die":
        # Commit orders and their events, then die before the relay can publish them.
        service = orders_service(database_url=database_url, broker_url=broker_url)
        await service.database.start()
        for n in range(int(os.environ["SHOP_COUNT"])):
            await place_order(service, f"order-{n}")
        os.kill(os.getpid(), signal.SIGKILL)
    if role == "relay":
        service = orders_service(database_url=database_url, broker_url=broker_url)
    else:
        service = points_service(database_url=database_url, broker_url=broker_url)
        if role == "consume-and-die-before-ack":
            from paved.messaging import _jetstream as jetstream
            from paved.messaging import _rabbitmq as rabbitmq

            async def die(_: object) -> None:  # the effect is committed; the ack never leaves
                os.kill(os.getpid(), signal.SIGKILL)

            for delivery in (jetstream._JetStreamDelivery, rabbitmq._RabbitDelivery):
                delivery.ack = die  # type: ignore[method-assign]
    async with service.running():
        Path(os.environ["SHOP_READY_FILE"]).touch()
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
