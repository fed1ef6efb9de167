"""order's contract as order has it: its stream and its events, whole, for the tests to publish as order does.

Copied from ``order/contract.py``, every field, extra fields refused as order's are, so that notification
is tested against what order really sends, not against notification's own reading of it. Each event's
subject is derived from its type, as order's are.
"""

from __future__ import annotations

from paved.messaging import Event, Stream
from pydantic import AwareDatetime, BaseModel

ORDER_EVENTS = Stream("ORDER_EVENTS", subjects=["order.events.>"])


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
