"""What the rest of the shop is told about an order: its facts, published as order's events (``contract``).

Pure Python: ``order.announcements`` turns each into its contract event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from order.domain import Money, OrderLine


class RejectionReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_FAILED = "payment_failed"
    WAREHOUSE_UNAVAILABLE = "warehouse_unavailable"
    PAYMENT_UNAVAILABLE = "payment_unavailable"


@dataclass(frozen=True)
class OrderPlaced:
    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    total: Money
    at: datetime


@dataclass(frozen=True)
class FulfilmentRequested:
    """A choreographed order asks its partners to fulfil it (they react to this, nobody drives them)."""

    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    total: Money
    at: datetime


@dataclass(frozen=True)
class OrderRejected:
    order_id: str
    customer_id: str
    total: Money
    reason: RejectionReason
    detail: str
    at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    customer_id: str
    total: Money
    reason: str
    at: datetime


@dataclass(frozen=True)
class OrderDispatched:
    order_id: str
    customer_id: str
    total: Money
    at: datetime


Fact = OrderPlaced | FulfilmentRequested | OrderRejected | OrderCancelled | OrderDispatched
