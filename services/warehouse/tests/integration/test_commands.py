"""The warehouse's commands over a real JetStream server: sent as another service sends them, answered on its reply subject."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from paved import Envelope, Service, new_id
from paved.messaging import Command, Stream
from paved.testing import BrokerProbe, eventually

from warehouse.contract import DispatchOrder, Line, ReleaseStock, ReserveStock

from .clock import ManualClock

Ask = Callable[[Command], Awaitable[Envelope]]


@asynccontextmanager
async def asker(broker: BrokerProbe) -> AsyncIterator[Ask]:
    """Another service, as far as the warehouse can tell: it sends commands and reads the replies on its own stream."""
    name = f"asker-{new_id()[:8]}"
    stream, reply_subject = name.upper().replace("-", "_"), f"{name}.replies"
    await broker.declare(Stream(stream, subjects=[reply_subject]))

    async def ask(command: Command) -> Envelope:
        sent = await broker.publish(
            command.envelope(reply_to=reply_subject, sender="order"), subject=command.message_subject
        )

        async def answered() -> list[Envelope]:
            replies = await broker.messages_in(stream, correlation_ids={sent.correlation_id})
            return [reply for reply in replies if reply.causation_id == sent.id]

        [reply] = await eventually(answered)
        return reply

    yield ask


def reserve(order_id: str, sku: str = "ALB-00001", quantity: int = 2, ttl_seconds: int = 900) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=(Line(sku=sku, quantity=quantity),), ttl_seconds=ttl_seconds)


async def available(client: httpx.AsyncClient, sku: str = "ALB-00001") -> int:
    return int((await client.get(f"/stock/{sku}")).json()["available"])


async def test_reserve_stock_is_answered_and_announced(
    service: Service, client: httpx.AsyncClient, broker: BrokerProbe
) -> None:
    """ReserveStock sent over NATS holds the stock, is answered StockReserved, and StockReserved is published once."""
    order_id = f"o-{new_id()[:12]}"  # the broker outlives each test: this order's events are this test's
    async with asker(broker) as ask:
        reply = await ask(reserve(order_id))
    assert reply.type == "warehouse.StockReserved"
    assert reply.data["order_id"] == order_id and reply.data["lines"] == [{"sku": "ALB-00001", "quantity": 2}]
    assert await available(client) == 8
    [event] = await eventually(lambda: broker.messages_in("WAREHOUSE_EVENTS", correlation_ids={order_id}))
    assert event.type == "warehouse.StockReserved" and event.causation_id == reply.causation_id


async def test_a_short_order_is_answered_out_of_stock(
    service: Service, client: httpx.AsyncClient, broker: BrokerProbe
) -> None:
    """ReserveStock for more than there is is answered OutOfStock with the shortage, and holds nothing."""
    async with asker(broker) as ask:
        reply = await ask(reserve("o-1", sku="ALB-00005", quantity=2))
    assert reply.type == "warehouse.OutOfStock"
    assert reply.data["shortages"] == [{"sku": "ALB-00005", "requested": 2, "available": 1}]
    assert await available(client, "ALB-00005") == 1


async def test_the_fulfilment_steps_are_answered_with_where_the_order_stands(
    service: Service, client: httpx.AsyncClient, broker: BrokerProbe
) -> None:
    """Reserve, repeat, dispatch, then a late release: each answer says where the stock is; it is held and sent once."""
    async with asker(broker) as ask:
        first = await ask(reserve("o-1"))
        repeat = await ask(reserve("o-1"))
        dispatched = await ask(DispatchOrder(order_id="o-1"))
        too_late = await ask(ReleaseStock(order_id="o-1"))
        unknown = await ask(DispatchOrder(order_id="nope"))
    assert [r.type for r in (first, repeat, dispatched, too_late)] == [
        "warehouse.StockReserved",
        "warehouse.StockReserved",
        "warehouse.OrderDispatched",
        "warehouse.OrderDispatched",
    ]
    assert repeat.data == first.data
    assert (unknown.type, unknown.data) == ("warehouse.ReservationNotFound", {"order_id": "nope"})
    assert await available(client) == 8


async def test_dispatching_after_the_hold_lapsed_is_answered_expired(
    service: Service, client: httpx.AsyncClient, broker: BrokerProbe, clock: ManualClock
) -> None:
    """A DispatchOrder after the TTL, unpicked, is answered StockReleased(expired), and the stock is back."""
    async with asker(broker) as ask:
        await ask(reserve("o-1", ttl_seconds=60))
        clock.advance(seconds=61)
        reply = await ask(DispatchOrder(order_id="o-1"))
    assert (reply.type, reply.data["reason"]) == ("warehouse.StockReleased", "expired")
    assert await available(client) == 10
