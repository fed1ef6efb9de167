"""Payment's side of a choreographed fulfilment over a real JetStream broker and payment-provider.

The other services' messages are published as they would publish them: an envelope whose correlation id
is the order id, on their subject. What happened is read from the payment service's API and tables, the
processor's charges, and the events on PAYMENT_EVENTS.
"""

from __future__ import annotations

from typing import Any

from paved import Envelope
from paved.messaging import Message
from paved.testing import BrokerProbe, eventually
from sqlalchemy import select

from payment.contract import KeepCard
from payment.partners import OrderCancelled, OrderRejected, StockReserved
from payment.tables import messaging, payment_choreographies

from .processes import ProviderProcess
from .values import DECLINED_CARD, GOOD_CARD, Running, Start, messages_about, new_order_id

MESSAGES: tuple[type[Message], ...] = (KeepCard, StockReserved, OrderCancelled, OrderRejected)


def keep_card(order_id: str, *, card: str = GOOD_CARD) -> KeepCard:
    return KeepCard(order_id=order_id, customer_id="customer-1", amount_minor=1299, currency="GBP", card_number=card)


def stock_reserved(order_id: str) -> dict[str, Any]:
    """A StockReserved as the warehouse publishes it (with the fields payment does not read)."""
    return {"order_id": order_id, "lines": [{"sku": "ALB-00001", "quantity": 1}], "expires_at": "2030-01-01T00:00:00Z"}


def order_ended(order_id: str) -> dict[str, Any]:
    """An OrderCancelled or OrderRejected as order publishes it."""
    total = {"amount_minor": 1299, "currency": "GBP"}
    return {"order_id": order_id, "customer_id": "customer-1", "total": total, "reason": "out_of_stock"}


def sent(message: Message | tuple[type[Message], dict[str, Any]], order_id: str) -> Envelope:
    """A new message of the order's process, as its sender's outbox writes it: its correlation id is the order id.
    A partner's event is given as its type and data, with the fields payment does not read."""
    if isinstance(message, Message):
        return message.envelope(correlation_id=order_id, sender="order")
    message_type, data = message
    return Envelope.new(message_type.message_type, data, version=message_type.message_version, correlation_id=order_id)


async def publish(probe: BrokerProbe, envelope: Envelope, *, dedup_id: str | None = None) -> Envelope:
    """Publish ``envelope`` on its type's subject (KeepCard's, or the partner event's), as its sender's relay would."""
    subject = next(kind.message_subject for kind in MESSAGES if kind.message_type == envelope.type)
    return await probe.publish(envelope, subject=subject, dedup_id=dedup_id)


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


async def event_types(probe: BrokerProbe, order_id: str, *, count: int) -> list[str]:
    """The types of the payment events about the order, once there are ``count`` of them."""

    async def enough() -> list[Envelope]:
        found = await messages_about(probe, "PAYMENT_EVENTS", order_id)
        return found if len(found) >= count else []

    events = await eventually(enough)
    assert all(e.correlation_id == order_id for e in events), "every event of the process carries the order id"
    return [e.type for e in events]


async def test_a_kept_card_is_charged_when_the_stock_is_reserved(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """KeepCard keeps the card sealed and charges nothing; StockReserved charges it once, and PaymentTaken goes
    out with the order id as its correlation id."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        kept = await publish(probe, sent(keep_card(order_id), order_id))
        assert await eventually(lambda: handled(payment, kept))
        row = await choreography(payment, order_id)
        assert row is not None and row["sealed_card"] and GOOD_CARD.encode() not in row["sealed_card"]
        assert (await payment.payment(order_id))["status"] == 404
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        assert await event_types(probe, order_id, count=1) == ["payment.PaymentTaken"]
        assert (await payment.payment(order_id))["status"] == "taken"
        assert (await choreography(payment, order_id) or {})["sealed_card"] is None
    (charge,) = provider.charges(order_id)
    assert (charge["status"], charge["amount_minor"]) == ("succeeded", 1299)


async def test_stock_reserved_before_the_card_is_charged_when_the_card_comes(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """StockReserved overtaking KeepCard (they come on different streams): charged once the card comes."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        assert await eventually(lambda: handled(payment, reserved))
        await publish(probe, sent(keep_card(order_id), order_id))
        assert await event_types(probe, order_id, count=1) == ["payment.PaymentTaken"]
    assert len(provider.charges(order_id)) == 1


async def test_an_orchestrated_orders_events_have_no_effect(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """StockReserved and OrderRejected for an order that sent no card: no payment, no charge, no event."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        rejected = sent((OrderRejected, order_ended(order_id)), order_id)
        await publish(probe, reserved)
        await publish(probe, rejected)
        assert await eventually(lambda: handled(payment, reserved))
        assert await eventually(lambda: handled(payment, rejected))
        assert (await payment.payment(order_id))["status"] == 404
    assert provider.charges(order_id) == []
    assert await messages_about(probe, "PAYMENT_EVENTS", order_id) == []


async def test_a_stock_reserved_delivered_again_or_repeated_charges_once(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """StockReserved delivered again as it was (same message id) and sent again (a new one): one charge, one event."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(probe, sent(keep_card(order_id), order_id))
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        again = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        await publish(probe, reserved, dedup_id="redelivered-1")
        await publish(probe, again)
        assert await eventually(lambda: handled(payment, again))
        assert await event_types(probe, order_id, count=1) == ["payment.PaymentTaken"]
        assert (await payment.payment(order_id))["status"] == "taken"
    assert len(provider.charges(order_id)) == 1
    assert len(await messages_about(probe, "PAYMENT_EVENTS", order_id)) == 1


async def test_a_declined_kept_card_is_published_declined(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """The processor declines the kept card: PaymentDeclined goes out, as for a TakePayment."""
    order_id = new_order_id()
    async with start(provider.url):
        await publish(probe, sent(keep_card(order_id, card=DECLINED_CARD), order_id))
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        assert await event_types(probe, order_id, count=1) == ["payment.PaymentDeclined"]


async def test_an_order_rejected_after_its_payment_is_refunded(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """OrderRejected after PaymentTaken gives the money back at the processor, and PaymentRefunded goes out."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(probe, sent(keep_card(order_id), order_id))
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        assert await event_types(probe, order_id, count=1) == ["payment.PaymentTaken"]
        rejected = sent((OrderRejected, order_ended(order_id)), order_id)
        await publish(probe, rejected)
        assert await event_types(probe, order_id, count=2) == ["payment.PaymentTaken", "payment.PaymentRefunded"]
        assert (await payment.payment(order_id))["status"] == "refunded"
    (charge,) = provider.charges(order_id)
    assert charge["refunded_minor"] == 1299


async def test_an_order_cancelled_before_its_stock_forgets_the_card(
    start: Start, provider: ProviderProcess, probe: BrokerProbe
) -> None:
    """OrderCancelled before StockReserved: the sealed card is erased, and the stock then charges nothing."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await publish(probe, sent(keep_card(order_id), order_id))
        cancelled = sent((OrderCancelled, order_ended(order_id)), order_id)
        await publish(probe, cancelled)

        async def forgotten() -> bool:
            row = await choreography(payment, order_id)
            return row is not None and row["card_kept_at"] is not None and row["ended_at"] is not None

        assert await eventually(forgotten)
        assert (await choreography(payment, order_id) or {})["sealed_card"] is None
        reserved = sent((StockReserved, stock_reserved(order_id)), order_id)
        await publish(probe, reserved)
        assert await eventually(lambda: handled(payment, reserved))
        assert (await payment.payment(order_id))["status"] == 404
    assert provider.charges(order_id) == []
    assert await messages_about(probe, "PAYMENT_EVENTS", order_id) == []
