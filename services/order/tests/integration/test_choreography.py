"""A choreographed order on a real broker: what order publishes, how it follows the partners' events, and
the saga view it keeps of the whole process (the partners here are the test, publishing their events)."""

from __future__ import annotations

from typing import Any

import httpx
from paved import Envelope, Service
from paved.sagas import SagaStore
from paved.testing import BrokerProbe, eventually
from sqlalchemy import func, select

from order.tables import payment_cards

from .bodies import VISA, an_order, keyed


async def publish(broker_url: str, subject: str, type_: str, order_id: str, **data: Any) -> None:
    """A partner's event about ``order_id``, as the partner's outbox would publish it."""
    envelope = Envelope(type=type_, correlation_id=order_id, data={"order_id": order_id, **data})
    await BrokerProbe(broker_url).publish(envelope, subject=subject)


async def messages_on(broker_url: str, stream: str, *, order_id: str) -> list[Envelope]:
    """Every message in ``stream`` of ``order_id``'s business process, in stream order."""
    return await BrokerProbe(broker_url).messages_in(stream, correlation_ids={order_id})


async def place(client: httpx.AsyncClient, ann: dict[str, str], style: str) -> str:
    response = await client.post("/orders", json=an_order() | {"fulfilment": style}, headers=keyed(ann))
    assert response.status_code == 201, response.text
    assert response.json()["fulfilment"] == style
    return str(response.json()["id"])


async def status_of(client: httpx.AsyncClient, ann: dict[str, str], order_id: str) -> dict[str, Any]:
    return (await client.get(f"/orders/{order_id}", headers=ann)).json()


async def test_a_choreographed_order_is_requested_by_an_event_and_follows_its_partners_to_dispatch(
    client: httpx.AsyncClient, ann: dict[str, str], service: Service, broker_url: str, database_url: str
) -> None:
    order_id = await place(client, ann, "choreographed")

    async def published() -> list[str]:
        return [e.type for e in await messages_on(broker_url, "ORDER_EVENTS", order_id=order_id)]

    assert await eventually(lambda: _at_least(published, 2)) == ["order.OrderPlaced", "order.FulfilmentRequested"]
    [keep] = await messages_on(broker_url, "PAYMENT_COMMANDS", order_id=order_id)
    assert (keep.type, keep.data["card_number"], keep.correlation_id) == ("payment.KeepCard", VISA, order_id)
    async with service.database.read() as session:  # order keeps no card of a choreographed order
        assert (await session.execute(select(func.count()).select_from(payment_cards))).scalar_one() == 0

    await publish(broker_url, "warehouse.events.stock-reserved", "warehouse.StockReserved", order_id)
    await publish(broker_url, "payment.events.payment-taken", "payment.PaymentTaken", order_id)
    await publish(broker_url, "warehouse.events.order-dispatched", "warehouse.OrderDispatched", order_id)
    await publish(broker_url, "loyalty.events.points-awarded", "loyalty.PointsAwarded", order_id, points=25)

    async def dispatched_with_points() -> dict[str, Any] | None:
        order = await status_of(client, ann, order_id)
        return order if order["status"] == "dispatched" and order["points_awarded"] == 25 else None

    assert await eventually(dispatched_with_points)
    async with SagaStore("order", database_url) as store:

        async def viewed() -> Any:
            shown = await store.show(order_id)
            return shown if shown and shown[0].finished and len(shown[1]) >= 6 else None

        shown = await eventually(viewed)
        assert shown, await store.show(order_id)
        summary, timeline = shown
        assert (summary.saga, summary.style, summary.state) == (
            "fulfilment-choreographed",
            "choreographed",
            "dispatched",
        )
        assert {e.step for e in timeline} >= {
            "order.OrderPlaced",
            "order.FulfilmentRequested",
            "warehouse.StockReserved",
            "payment.PaymentTaken",
            "warehouse.OrderDispatched",
            "loyalty.PointsAwarded",
        }


async def test_a_refused_reservation_rejects_a_choreographed_order(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str
) -> None:
    order_id = await place(client, ann, "choreographed")
    shortages = [{"sku": "ALB-00001", "requested": 2, "available": 0}]
    await publish(
        broker_url,
        "warehouse.events.reservation-refused",
        "warehouse.ReservationRefused",
        order_id,
        shortages=shortages,
    )

    async def rejected() -> dict[str, Any] | None:
        order = await status_of(client, ann, order_id)
        return order if order["status"] == "rejected" else None

    assert await eventually(rejected)

    async def announced() -> list[str]:
        return [e.type for e in await messages_on(broker_url, "ORDER_EVENTS", order_id=order_id)]

    assert "order.OrderRejected" in await eventually(lambda: _at_least(announced, 3))


async def test_an_orchestrated_order_is_not_moved_by_the_partners_events(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str, database_url: str
) -> None:
    """Its saga is told by the replies to its commands; the events that also pass by change nothing."""
    order_id = await place(client, ann, "orchestrated")
    await publish(broker_url, "warehouse.events.stock-reserved", "warehouse.StockReserved", order_id)
    await publish(broker_url, "payment.events.payment-taken", "payment.PaymentTaken", order_id)
    marker = await place(client, ann, "choreographed")  # events are consumed in order: once this one is seen…
    await publish(broker_url, "warehouse.events.stock-reserved", "warehouse.StockReserved", marker)

    async def marker_moved() -> bool:
        return (await status_of(client, ann, marker))["status"] == "stock_reserved"

    assert await eventually(marker_moved)
    assert (await status_of(client, ann, order_id))["status"] == "placed"  # …the earlier ones were ignored
    async with SagaStore("order", database_url) as store:
        shown = await store.show(order_id)
    assert shown is not None and shown[0].saga == "fulfilment"  # the orchestrated saga, not the view


async def _at_least(check: Any, n: int) -> Any:
    found = await check()
    return found if len(found) >= n else None
