"""A tiny service for the CLI tests: ``points`` consumes OrderPlaced and may be told to fail on some orders.

A trimmed copy of paved's own test shop (paved/tests/integration/shop.py): each folder's tests build from
that folder alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from paved import Envelope, Service, ServiceSettings
from paved.messaging import DeadLetter, Event, Handling, MessagingTables, Outgoing, Stream, connected, messaging_tables
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

T = TypeVar("T")


# The orders service's stream, which the points service follows (the tests declare it, as orders would).
ORDERS = Stream("ORDERS", subjects=["orders.>"])


class OrderPlaced(Event, type="orders.OrderPlaced", version=1, subject="orders.placed"):
    order_id: str
    total_minor: int


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


def points_service(*, database_url: str, broker_url: str, fail_orders: set[str] = frozenset()) -> Service:
    service = messaging_service("points", points_messaging, database_url=database_url, broker_url=broker_url)
    consumer = service.messaging.consumer(
        "points-orders",
        stream=service.messaging.follow(ORDERS.name),
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


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 30.0) -> T:
    """``check``'s result once it is truthy, or its last result after ``timeout`` seconds."""
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
    url: str,
    subject: str,
    body: bytes,
    *,
    envelope: Envelope | None = None,
    broker_id: str | None = None,
) -> None:
    """Put a message on the broker as any publisher might, bypassing an outbox.

    ``broker_id`` is the broker's de-duplication id (the envelope's id unless given).
    """
    headers = envelope.headers() if envelope else {}
    message_id = broker_id or (envelope.id if envelope else Envelope.new("x", {}).id)
    async with connected(url) as transport:
        await transport.publish([Outgoing(message_id, subject, body, headers)])
