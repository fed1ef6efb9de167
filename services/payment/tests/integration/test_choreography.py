"""Payment's side of a choreographed fulfilment over a real JetStream broker and payment-provider.

The other services' messages are published as they would publish them: an envelope whose correlation id
is the order id, on their subject. What happened is read from the payment service's API and tables, the
processor's charges, and the events on PAYMENT_EVENTS.
"""

from __future__ import annotations

from typing import Any

import nats
from paved import Envelope
from paved.messaging import Message
from sqlalchemy import select

from payment.contract import KEEP_CARD_SUBJECT, KeepCard
from payment.partners import (
    ORDER_CANCELLED_SUBJECT,
    ORDER_REJECTED_SUBJECT,
    STOCK_RESERVED_SUBJECT,
    OrderCancelled,
    OrderRejected,
    StockReserved,
)
from payment.tables import messaging, payment_choreographies

from .processes import ProviderProcess
from .values import DECLINED_CARD, GOOD_CARD, Running, Start, eventually, messages_about, new_order_id


def keep_card(order_id: str, *, card: str = GOOD_CARD) -> KeepCard:
    return KeepCard(order_id=order_id, customer_id="customer-1", amount_minor=1299, currency="GBP", card_number=card)


def stock_reserved(order_id: str) -> dict[str, Any]:
    """A StockReserved as the warehouse publishes it (with the fields payment does not read)."""
    return {"order_id": order_id, "lines": [{"sku": "ALB-00001", "quantity": 1}], "expires_at": "2030-01-01T00:00:00Z"}


def order_ended(order_id: str) -> dict[str, Any]:
    """An OrderCancelled or OrderRejected as order publishes it."""
    total = {"amount_minor": 1299, "currency": "GBP"}
    return {"order_id": order_id, "customer_id": "customer-1", "total": total, "reason": "out_of_stock"}


async def publish(broker_url: str, envelope: Envelope, *, subject: str, dedup_id: str | None = None) -> Envelope:
    """Publish ``envelope`` as its sender's outbox would; ``dedup_id`` sends it again past the broker's de-duplication."""
    connection = await nats.connect(broker_url)
    try:
        headers = {**envelope.headers(), "Nats-Msg-Id": dedup_id or envelope.id}
        await connection.jetstream().publish(subject, envelope.to_bytes(), headers=headers)
    finally:
        await connection.close()
    return envelope


def sent(message: Message | tuple[str, dict[str, Any]], order_id: str) -> Envelope:
    """A new message of the order's process: its correlation id is the order id."""
    if isinstance(message, Message):
        return message.envelope(correlation_id=order_id)
    message_type, data = message
    return Envelope.new(message_type, data, correlation_id=order_id)


async def handled(payment: Running, envelope: Envelope) -> bool:
    """Whether the payment service has handled the message (its inbox holds its id)."""
    async with payment.service.database.read() as session:
        query = select(messaging.inbox.c.message_id).where(messaging.inbox.c.message_id == envelope.id)
        return (await session.execute(query)).first() is not None


async def choreography(payment: Running, order_id: str) -> dict[str, Any] | None:
    async with payment.service.database.read() as session:
        query = select(payment_choreographies).where(payment_choreographies.c.order_id == order_id)
        row = (await session.execute(query)).mappings().first()
        return None if row is None else dict(row)


async def event_types(broker_url: str, order_id: str, *, count: int) -> list[str]:
    """The types of the payment events about the order, once there are ``count`` of them."""

    async def enough() -> list[Envelope]:
        found = await messages_about(broker_url, "PAYMENT_EVENTS", order_id)
        return found if len(found) >= count else []

    events = await eventually(enough)
    assert all(e.correlation_id == order_id for e in events), "every event of the process carries the order id"
    return [e.type for e in events]


async def test_a_kept_card_is_charged_when_the_stock_is_reserved(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """KeepCard keeps the card sealed and charges nothing; StockReserved charges it once, and PaymentTaken goes
    out with the order id as its correlation id."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        kept = await publish(broker_url, sent(keep_card(order_id), order_id), subject=KEEP_CARD_SUBJECT)
        assert await eventually(lambda: handled(payment, kept))
        row = await choreography(payment, order_id)
        assert row is not None and row["sealed_card"] and GOOD_CARD.encode() not in row["sealed_card"]
        assert (await payment.payment(order_id))["status"] == 404
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        assert await event_types(broker_url, order_id, count=1) == ["payment.PaymentTaken"]
        assert (await payment.payment(order_id))["status"] == "taken"
        assert (await choreography(payment, order_id) or {})["sealed_card"] is None
    (charge,) = provider.charges(order_id)
    assert (charge["status"], charge["amount_minor"]) == ("succeeded", 1299)


async def test_stock_reserved_before_the_card_is_charged_when_the_card_comes(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """StockReserved overtaking KeepCard (they come on different streams): charged once the card comes."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        assert await eventually(lambda: handled(payment, reserved))
        await publish(broker_url, sent(keep_card(order_id), order_id), subject=KEEP_CARD_SUBJECT)
        assert await event_types(broker_url, order_id, count=1) == ["payment.PaymentTaken"]
    assert len(provider.charges(order_id)) == 1


async def test_an_orchestrated_orders_events_have_no_effect(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """StockReserved and OrderRejected for an order that sent no card: no payment, no charge, no event."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        rejected = sent((OrderRejected.message_type, order_ended(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        await publish(broker_url, rejected, subject=ORDER_REJECTED_SUBJECT)
        assert await eventually(lambda: handled(payment, reserved))
        assert await eventually(lambda: handled(payment, rejected))
        assert (await payment.payment(order_id))["status"] == 404
    assert provider.charges(order_id) == []
    assert await messages_about(broker_url, "PAYMENT_EVENTS", order_id) == []


async def test_a_stock_reserved_delivered_again_or_repeated_charges_once(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """StockReserved delivered again as it was (same message id) and sent again (a new one): one charge, one event."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(broker_url, sent(keep_card(order_id), order_id), subject=KEEP_CARD_SUBJECT)
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        again = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT, dedup_id="redelivered-1")
        await publish(broker_url, again, subject=STOCK_RESERVED_SUBJECT)
        assert await eventually(lambda: handled(payment, again))
        assert await event_types(broker_url, order_id, count=1) == ["payment.PaymentTaken"]
        assert (await payment.payment(order_id))["status"] == "taken"
    assert len(provider.charges(order_id)) == 1
    assert len(await messages_about(broker_url, "PAYMENT_EVENTS", order_id)) == 1


async def test_a_declined_kept_card_is_published_declined(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """The processor declines the kept card: PaymentDeclined goes out, as for a TakePayment."""
    order_id = new_order_id()
    async with start(provider.url):
        await publish(broker_url, sent(keep_card(order_id, card=DECLINED_CARD), order_id), subject=KEEP_CARD_SUBJECT)
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        assert await event_types(broker_url, order_id, count=1) == ["payment.PaymentDeclined"]


async def test_an_order_rejected_after_its_payment_is_refunded(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """OrderRejected after PaymentTaken gives the money back at the processor, and PaymentRefunded goes out."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(broker_url, sent(keep_card(order_id), order_id), subject=KEEP_CARD_SUBJECT)
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        assert await event_types(broker_url, order_id, count=1) == ["payment.PaymentTaken"]
        rejected = sent((OrderRejected.message_type, order_ended(order_id)), order_id)
        await publish(broker_url, rejected, subject=ORDER_REJECTED_SUBJECT)
        assert await event_types(broker_url, order_id, count=2) == ["payment.PaymentTaken", "payment.PaymentRefunded"]
        assert (await payment.payment(order_id))["status"] == "refunded"
    (charge,) = provider.charges(order_id)
    assert charge["refunded_minor"] == 1299


async def test_an_order_cancelled_before_its_stock_forgets_the_card(
    start: Start, provider: ProviderProcess, broker_url: str
) -> None:
    """OrderCancelled before StockReserved: the sealed card is erased, and the stock then charges nothing."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(broker_url, sent(keep_card(order_id), order_id), subject=KEEP_CARD_SUBJECT)
        cancelled = sent((OrderCancelled.message_type, order_ended(order_id)), order_id)
        await publish(broker_url, cancelled, subject=ORDER_CANCELLED_SUBJECT)

        async def forgotten() -> bool:
            row = await choreography(payment, order_id)
            return row is not None and row["card_kept_at"] is not None and row["ended_at"] is not None

        assert await eventually(forgotten)
        assert (await choreography(payment, order_id) or {})["sealed_card"] is None
        reserved = sent((StockReserved.message_type, stock_reserved(order_id)), order_id)
        await publish(broker_url, reserved, subject=STOCK_RESERVED_SUBJECT)
        assert await eventually(lambda: handled(payment, reserved))
        assert (await payment.payment(order_id))["status"] == 404
    assert provider.charges(order_id) == []
    assert await messages_about(broker_url, "PAYMENT_EVENTS", order_id) == []
