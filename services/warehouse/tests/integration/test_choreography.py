"""The warehouse's part in the choreographed fulfilment, over a real JetStream server.

order's and payment's events are published as their owners publish them (on their streams, correlated
with the order); what they did is read through the warehouse's API and from WAREHOUSE_EVENTS.
"""

from __future__ import annotations

import asyncio

import httpx
from paved import Envelope, Service, ServiceSettings, new_id
from paved.testing import BrokerProbe, eventually, memory_broker_for_test

from warehouse.app import create_service

from ..partner_events import RELEASING, STREAMS, about, fulfilment_requested, subject_of
from .clock import ManualClock
from .conftest import TOKENS


async def publish(broker: BrokerProbe, *envelopes: Envelope) -> None:
    """Publish as order and payment do; the same envelope twice is a redelivery (each copy gets past the
    broker's de-duplication with an id of its own, so the warehouse's inbox is what must drop it)."""
    for envelope in envelopes:
        await broker.publish(envelope, subject=subject_of(envelope), dedup_id=new_id())


def new_order_id() -> str:
    """An order of this test's own: the broker, its streams and the warehouse's consumers outlive each test."""
    return f"ord-{new_id()}"


async def status_of(client: httpx.AsyncClient, admin: dict[str, str], order_id: str) -> str | None:
    response = await client.get(f"/reservations/{order_id}", headers=admin)
    return None if response.status_code == 404 else str(response.json()["status"])


async def becomes(client: httpx.AsyncClient, admin: dict[str, str], order_id: str, status: str) -> bool:
    """Whether the order's reservation comes to be in ``status`` (within ``eventually``'s time)."""

    async def reached() -> bool:
        return await status_of(client, admin, order_id) == status

    return await eventually(reached)


async def told(broker: BrokerProbe, order_id: str, count: int) -> list[Envelope]:
    """The warehouse's events about the order once there are ``count`` (or what there is after a while)."""

    async def enough() -> list[Envelope]:
        events = await broker.messages_in("WAREHOUSE_EVENTS", correlation_ids={order_id})
        return events if len(events) >= count else []

    await eventually(enough)
    await asyncio.sleep(0.3)  # time for a wrong extra event to show up
    return await broker.messages_in("WAREHOUSE_EVENTS", correlation_ids={order_id})


async def available(client: httpx.AsyncClient, sku: str = "ALB-00001") -> int:
    return int((await client.get(f"/stock/{sku}")).json()["available"])


async def test_a_choreographed_order_is_reserved_then_dispatched_once_paid(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe
) -> None:
    """FulfilmentRequested holds the lines (StockReserved), PaymentTaken sends them (OrderDispatched), each told once."""
    order_id = new_order_id()
    requested = fulfilment_requested(order_id, ALB_00001=2)
    await publish(broker, requested)
    assert await becomes(client, admin, order_id, "held")
    paid = about(order_id, "payment.PaymentTaken")
    await publish(broker, paid)
    assert await becomes(client, admin, order_id, "dispatched")
    reserved, dispatched = await told(broker, order_id, 2)
    assert (reserved.type, reserved.causation_id) == ("warehouse.StockReserved", requested.id)
    assert (dispatched.type, dispatched.causation_id) == ("warehouse.OrderDispatched", paid.id)
    assert dispatched.data["lines"] == [{"sku": "ALB-00001", "quantity": 2}]
    assert await available(client) == 8


async def test_an_order_that_cannot_be_reserved_is_refused_on_warehouse_events(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe
) -> None:
    """Short of one line, nothing is held, and ReservationRefused names the shortage, for order and payment to act on."""
    order_id = new_order_id()
    await publish(broker, fulfilment_requested(order_id, ALB_00001=1, ALB_00005=2))
    [refused] = await told(broker, order_id, 1)
    assert refused.type == "warehouse.ReservationRefused"
    assert refused.data["order_id"] == order_id
    assert refused.data["shortages"] == [{"sku": "ALB-00005", "requested": 2, "available": 1}]
    assert await status_of(client, admin, order_id) is None
    assert (await available(client), await available(client, "ALB-00005")) == (10, 1)


async def test_each_way_of_giving_up_puts_the_stock_back(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe
) -> None:
    """A declined or failed payment, a cancellation and a rejection each release their order's hold (StockReleased)."""
    orders = {event_type: new_order_id() for event_type in RELEASING}
    await publish(broker, *(fulfilment_requested(order_id, ALB_00001=2) for order_id in orders.values()))
    for order_id in orders.values():
        assert await becomes(client, admin, order_id, "held")
    assert await available(client) == 2
    await publish(broker, *(about(order_id, event_type) for event_type, order_id in orders.items()))
    for order_id in orders.values():
        assert await becomes(client, admin, order_id, "released")
        assert [e.type for e in await told(broker, order_id, 2)] == [
            "warehouse.StockReserved",
            "warehouse.StockReleased",
        ]
    assert await available(client) == 10


async def test_redelivered_and_repeated_events_have_one_effect(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe
) -> None:
    """The same events delivered twice, and the order's fulfilment asked for again, hold and send its stock once."""
    order_id = new_order_id()
    requested, paid = fulfilment_requested(order_id, ALB_00001=2), about(order_id, "payment.PaymentTaken")
    await publish(broker, requested, requested, fulfilment_requested(order_id, ALB_00001=2))
    assert await becomes(client, admin, order_id, "held")
    await publish(broker, paid, paid, about(order_id, "payment.PaymentTaken"))
    assert await becomes(client, admin, order_id, "dispatched")
    assert [e.type for e in await told(broker, order_id, 2)] == [
        "warehouse.StockReserved",
        "warehouse.OrderDispatched",
    ]
    assert await available(client) == 8


async def test_an_orchestrated_orders_events_have_no_effect(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe
) -> None:
    """Events of an order reserved by its saga's command leave its hold alone: that order is driven by commands."""
    orchestrated, choreographed = new_order_id(), new_order_id()
    reservation = {"order_id": orchestrated, "lines": [{"sku": "ALB-00001", "quantity": 2}]}
    assert (await client.post("/reservations", json=reservation, headers=admin)).status_code == 201
    ignored = [about(orchestrated, event_type) for event_type in [*RELEASING, "payment.PaymentTaken"]]
    # Then a choreographed order's events on both streams: once they are handled, so are those before them.
    await publish(broker, *ignored, fulfilment_requested(choreographed, ALB_00001=1))
    assert await becomes(client, admin, choreographed, "held")
    await publish(broker, about(choreographed, "payment.PaymentTaken"))
    assert await becomes(client, admin, choreographed, "dispatched")
    assert await status_of(client, admin, orchestrated) == "held"
    assert [e.type for e in await told(broker, orchestrated, 1)] == ["warehouse.StockReserved"]
    assert await available(client) == 7


async def test_a_hold_that_lapsed_before_the_payment_is_not_dispatched(
    service: Service, client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe, clock: ManualClock
) -> None:
    """Let go by a read of its SKU, the lapse is told in the order's own story; the late payment dispatches nothing."""
    lapsed, later = new_order_id(), new_order_id()
    await publish(broker, fulfilment_requested(lapsed, ALB_00001=2))
    assert await becomes(client, admin, lapsed, "held")
    clock.advance(minutes=15)
    assert await available(client) == 10  # a shopper's read lets the lapsed hold go
    # Then another order paid for after it: once that one is dispatched, the late payment was handled too.
    await publish(broker, fulfilment_requested(later, ALB_00002=1))
    assert await becomes(client, admin, later, "held")
    await publish(broker, about(lapsed, "payment.PaymentTaken"), about(later, "payment.PaymentTaken"))
    assert await becomes(client, admin, later, "dispatched")
    assert await status_of(client, admin, lapsed) == "expired"
    _, released = await told(broker, lapsed, 2)
    assert (released.type, released.data["reason"]) == ("warehouse.StockReleased", "expired")
    assert await available(client) == 10


async def test_it_declares_its_own_streams_only_and_waits_for_its_partners(
    database_url: str, admin: dict[str, str]
) -> None:
    """Started before order and payment (on a broker of its own), the warehouse declares only its streams;
    once order declares ORDER_EVENTS, the fulfilment requested on it then is reserved."""
    with memory_broker_for_test() as memory:
        warehouse = create_service(ServiceSettings(database_url=database_url, broker_url=memory.url))
        TOKENS.install(warehouse.app)
        async with (
            warehouse.running(),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=warehouse.app), base_url="http://warehouse") as client,
        ):
            assert set(memory.streams) == {"PAVED_DLQ", "WAREHOUSE_COMMANDS", "WAREHOUSE_EVENTS"}
            await BrokerProbe(memory.url).declare(*STREAMS)  # order and payment start
            requested = fulfilment_requested(new_order_id(), ALB_00001=1)
            memory.store(
                subject_of(requested), requested.to_bytes(), {**requested.headers(), "Nats-Msg-Id": requested.id}
            )
            assert await becomes(client, admin, requested.data["order_id"], "held")
