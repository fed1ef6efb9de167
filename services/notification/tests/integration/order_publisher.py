"""A stand-in for order: a paved Service that publishes order's events through paved's outbox, as order does.

The event models are order's own, whole (copied from ``order/contract.py``, every field, extra fields
refused as order's are), so that notification is tested against what order really sends, not against
notification's own reading of it.
"""

from __future__ import annotations

from paved import Envelope, Service, ServiceSettings
from paved.messaging import Event, Message, messaging_tables
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import MetaData

STREAM = "ORDER_EVENTS"
SUBJECTS = "order.events.>"
ORDER_PLACED_SUBJECT = "order.events.order-placed"
ORDER_DISPATCHED_SUBJECT = "order.events.order-dispatched"
ORDER_REJECTED_SUBJECT = "order.events.order-rejected"
ORDER_CANCELLED_SUBJECT = "order.events.order-cancelled"


class Money(BaseModel):
    amount_minor: int
    currency: str


class PlacedLine(BaseModel):
    sku: str
    title: str
    quantity: int
    unit_price: Money


class OrderPlaced(Event, type="order.OrderPlaced", version=1):
    order_id: str
    customer_id: str
    lines: list[PlacedLine]
    total: Money
    placed_at: AwareDatetime


class OrderDispatched(Event, type="order.OrderDispatched", version=1):
    order_id: str
    customer_id: str
    total: Money
    dispatched_at: AwareDatetime


class OrderRejected(Event, type="order.OrderRejected", version=1):
    order_id: str
    customer_id: str
    total: Money
    reason: str
    detail: str
    rejected_at: AwareDatetime


class OrderCancelled(Event, type="order.OrderCancelled", version=1):
    order_id: str
    customer_id: str
    total: Money
    reason: str
    cancelled_at: AwareDatetime


class OrderPlacedV2(Event, type="order.OrderPlaced", version=2):
    """A version of OrderPlaced that notification does not know (yet)."""

    order_id: str
    customer_id: str
    total_pence: int


class OrderRefunded(Event, type="order.OrderRefunded", version=1):
    """An event order might add later, on a subject of its own."""

    order_id: str


metadata = MetaData()
messaging = messaging_tables(metadata)


def order_publisher(*, database_url: str, broker_url: str) -> Service:
    """A bare paved Service with order's stream and an outbox, on its own database."""
    service = Service(
        name="order-stand-in",
        version="0",
        settings=ServiceSettings(database_url=database_url, broker_url=broker_url),
        messaging=messaging,
    )
    assert service.messaging is not None
    service.messaging.stream(STREAM, subjects=[SUBJECTS])
    return service


async def publish(service: Service, event: Message, *, subject: str) -> Envelope:
    """Write ``event`` to the publisher's outbox in a transaction, as order does with its state change."""
    assert service.messaging is not None
    envelope = event.envelope()
    async with service.database.transaction() as session:
        await service.messaging.outbox.put(session, envelope, subject=subject)
    return envelope
