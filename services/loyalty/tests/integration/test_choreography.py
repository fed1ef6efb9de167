from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest
from paved import Envelope, Service
from paved.testing import BrokerProbe, TestTokens, eventually
from sqlalchemy import select

from loyalty.contract import EVENTS, AwardPoints, Money
from loyalty.partitioning import partition_of
from loyalty.partners import ORDER_EVENTS, PAYMENT_EVENTS, FulfilmentRequested, PaymentRefunded, PaymentTaken
from loyalty.tables import choreographed_orders

from .conftest import PARTITIONS


@pytest.fixture
def order_id() -> str:
    """An order of this test's own: the broker and its streams outlive each test's database."""
    return f"ord_{uuid4().hex[:12]}"


# Each event as its owner publishes it: every field, and the order's id as the correlation id.


def fulfilment_requested(customer_id: str, order_id: str, amount_minor: int = 1299) -> Envelope:
    data = {
        "order_id": order_id,
        "customer_id": customer_id,
        "lines": [{"sku": "ALB-00001", "quantity": 1}],
        "total": {"amount_minor": amount_minor, "currency": "GBP"},
        "requested_at": "2026-12-01T09:00:00Z",
    }
    return Envelope.new("order.FulfilmentRequested", data, correlation_id=order_id)


def payment_event(kind: str, customer_id: str, order_id: str) -> Envelope:
    data: dict[str, Any] = {"order_id": order_id, "customer_id": customer_id, "amount_minor": 1299, "currency": "GBP"}
    if kind == "taken":
        data |= {"charge_id": "ch_1", "card_last4": "4242", "taken_at": "2026-12-01T09:00:02Z"}
        return Envelope.new("payment.PaymentTaken", data, correlation_id=order_id)
    data |= {"refund_id": "rf_1", "refunded_at": "2026-12-01T09:05:00Z"}
    return Envelope.new("payment.PaymentRefunded", data, correlation_id=order_id)


async def requested(probe: BrokerProbe, envelope: Envelope, *, dedup_id: str | None = None) -> None:
    """Publish a FulfilmentRequested as order does, and wait until loyalty has taken it."""
    await probe.publish(envelope, subject=FulfilmentRequested.message_subject, dedup_id=dedup_id)
    assert await eventually(lambda: probe.all_handled(stream=ORDER_EVENTS, consumer="loyalty-order-events"))


async def paid(probe: BrokerProbe, *events: Envelope) -> None:
    """Publish payment events as payment does, one after the other, and wait until loyalty has taken them."""
    for event in events:
        kind = PaymentTaken if event.type == PaymentTaken.message_type else PaymentRefunded
        await probe.publish(event, subject=kind.message_subject)
        assert await eventually(lambda: probe.all_handled(stream=PAYMENT_EVENTS, consumer="loyalty-payment-events"))


async def loyalty_events(probe: BrokerProbe, order_id: str, *, count: int) -> list[Envelope]:
    """loyalty's events of the order, once ``count`` are out (and a moment for a wrong extra one)."""

    async def out() -> list[Envelope]:
        found = await probe.messages_in(EVENTS.name, correlation_ids={order_id})
        return found if len(found) >= count else []

    if count:
        await eventually(out)
    await asyncio.sleep(0.3)
    return await probe.messages_in(EVENTS.name, correlation_ids={order_id})


async def statement(client: httpx.AsyncClient, tokens: TestTokens, customer_id: str) -> dict[str, Any]:
    response = await client.get("/me/points", headers=tokens.bearer(customer_id, "customer"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_choreographed_order_earns_its_points_when_its_payment_is_taken(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """FulfilmentRequested, then PaymentTaken: PointsAwarded on LOYALTY_EVENTS, caused by the payment."""
    await requested(probe, fulfilment_requested(customer_id, order_id, amount_minor=1299))
    taken = payment_event("taken", customer_id, order_id)
    await paid(probe, taken)
    [event] = await loyalty_events(probe, order_id, count=1)
    assert (event.type, event.correlation_id, event.causation_id) == ("loyalty.PointsAwarded", order_id, taken.id)
    assert (event.data["order_id"], event.data["customer_id"], event.data["points"], event.data["balance"]) == (
        order_id,
        customer_id,
        12,
        12,
    )
    points = await statement(client, tokens, customer_id)
    assert points["balance"] == 12
    assert [(e["order_id"], e["kind"], e["amount"]) for e in points["entries"]] == [
        (order_id, "award", {"amount_minor": 1299, "currency": "GBP"})
    ]


async def test_a_payment_handled_before_its_orders_request_is_awarded_when_the_request_comes(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """The order events' consumer lagging the payment events' one (two consumers): nothing is lost."""
    await paid(probe, payment_event("taken", customer_id, order_id))
    assert await loyalty_events(probe, order_id, count=0) == []
    await requested(probe, fulfilment_requested(customer_id, order_id, amount_minor=1299))
    [event] = await loyalty_events(probe, order_id, count=1)
    assert (event.type, event.data["points"]) == ("loyalty.PointsAwarded", 12)
    assert (await statement(client, tokens, customer_id))["balance"] == 12


async def test_the_remembered_order_is_kept_in_its_customers_partition(
    service: Service, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """The choreographed order is stored under partition_of(customer_id), beside the customer's ledger."""
    await requested(probe, fulfilment_requested(customer_id, order_id, amount_minor=2598))
    async with service.database.read() as session:
        rows = (await session.execute(select(choreographed_orders))).mappings().all()
    assert [(r["partition_no"], r["customer_id"], r["order_id"], r["amount_minor"], r["currency"]) for r in rows] == [
        (partition_of(customer_id, partitions=PARTITIONS), customer_id, order_id, 2598, "GBP")
    ]


async def test_an_orchestrated_orders_payment_events_have_no_effect(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """An order awarded by AwardPoints keeps its points through its own PaymentTaken and PaymentRefunded events."""
    command = AwardPoints(order_id=order_id, customer_id=customer_id, amount=Money(amount_minor=1299, currency="GBP"))
    await probe.publish(command.envelope(correlation_id=order_id, sender="order"), subject=AwardPoints.message_subject)
    [awarded] = await loyalty_events(probe, order_id, count=1)
    taken, refunded = payment_event("taken", customer_id, order_id), payment_event("refunded", customer_id, order_id)
    await paid(probe, taken, refunded)
    assert await loyalty_events(probe, order_id, count=1) == [awarded]
    points = await statement(client, tokens, customer_id)
    assert points["balance"] == 12 and [e["kind"] for e in points["entries"]] == ["award"]
    parked = {Envelope.from_bytes(letter.body).id for letter in await probe.dead_letters()}
    assert not parked & {taken.id, refunded.id}, "an orchestrated order's events are acknowledged, not parked"


async def test_payment_events_of_an_order_loyalty_was_never_told_of_leave_nothing(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """Without FulfilmentRequested a refund records no tombstone and a payment no award: no entry, no event."""
    await paid(probe, payment_event("refunded", customer_id, order_id), payment_event("taken", customer_id, order_id))
    assert await loyalty_events(probe, order_id, count=0) == []
    assert await statement(client, tokens, customer_id) == {"customer_id": customer_id, "balance": 0, "entries": []}


async def test_redelivered_and_repeated_events_have_one_effect(
    service: Service, client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """Each event delivered twice, and PaymentTaken published again as a new message: one order kept, one award."""
    request = fulfilment_requested(customer_id, order_id)
    await requested(probe, request)
    await requested(probe, request, dedup_id=f"{request.id}:copy")
    taken = payment_event("taken", customer_id, order_id)
    await paid(probe, taken)
    await probe.publish(taken, subject=PaymentTaken.message_subject, dedup_id=f"{taken.id}:copy")
    await paid(probe, payment_event("taken", customer_id, order_id))
    assert [e.type for e in await loyalty_events(probe, order_id, count=1)] == ["loyalty.PointsAwarded"]
    assert (await statement(client, tokens, customer_id))["balance"] == 12
    async with service.database.read() as session:
        kept = (await session.execute(select(choreographed_orders.c.order_id))).scalars().all()
    assert kept == [order_id]


async def test_a_refund_takes_back_the_orders_points(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """PaymentRefunded after PaymentTaken: PointsRevoked with what the order earned, and the balance back to 0."""
    await requested(probe, fulfilment_requested(customer_id, order_id, amount_minor=1299))
    refunded = payment_event("refunded", customer_id, order_id)
    await paid(probe, payment_event("taken", customer_id, order_id), refunded)
    awarded, revoked = await loyalty_events(probe, order_id, count=2)
    assert (awarded.type, revoked.type, revoked.causation_id) == (
        "loyalty.PointsAwarded",
        "loyalty.PointsRevoked",
        refunded.id,
    )
    assert (revoked.data["points"], revoked.data["balance"], revoked.data["was_awarded"]) == (12, 0, True)
    assert (await statement(client, tokens, customer_id))["balance"] == 0


async def test_a_refund_that_overtakes_its_payment_cancels_the_award(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """PaymentRefunded handled before PaymentTaken revokes nothing, and the payment after it earns nothing."""
    await requested(probe, fulfilment_requested(customer_id, order_id))
    await paid(probe, payment_event("refunded", customer_id, order_id), payment_event("taken", customer_id, order_id))
    [revoked] = await loyalty_events(probe, order_id, count=1)
    assert (revoked.type, revoked.data["points"], revoked.data["was_awarded"]) == ("loyalty.PointsRevoked", 0, False)
    points = await statement(client, tokens, customer_id)
    assert points["balance"] == 0 and [(e["kind"], e["points"]) for e in points["entries"]] == [("revoke", 0)]


async def test_a_fulfilment_requested_loyalty_could_not_award_is_parked_and_the_next_one_is_handled(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str, order_id: str
) -> None:
    """A FulfilmentRequested without a total goes to the dead letters naming it; the consumer goes on."""
    broken = fulfilment_requested(customer_id, f"{order_id}-broken")
    broken = broken.model_copy(update={"data": {k: v for k, v in broken.data.items() if k != "total"}})
    await requested(probe, broken)
    await requested(probe, fulfilment_requested(customer_id, order_id))
    await paid(probe, payment_event("taken", customer_id, order_id))
    assert (await statement(client, tokens, customer_id))["balance"] == 12

    async def parked() -> list[str]:
        letters = await probe.dead_letters()
        return [letter.reason for letter in letters if Envelope.from_bytes(letter.body).id == broken.id]

    [reason] = await eventually(parked)
    assert "total" in reason
