"""order's and payment's events as their owners publish them (every field, correlated with the order), for the tests.

Built from the owners' contracts as they read today (``services/order/src/order/contract.py``,
``services/payment/src/payment/contract.py``), with fields the warehouse does not read, so that the tests
also show those are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paved import Envelope
from paved.messaging import Stream

from warehouse import partners

# Their streams as order and payment declare them (the warehouse only follows them).
STREAMS = [
    Stream(partners.ORDER_EVENTS, subjects=["order.events.>"]),
    Stream(partners.PAYMENT_EVENTS, subjects=["payment.events.>"]),
]

_TYPES = {
    kind.message_type: kind
    for kind in (
        partners.FulfilmentRequested,
        partners.OrderCancelled,
        partners.OrderRejected,
        partners.PaymentTaken,
        partners.PaymentDeclined,
        partners.PaymentFailed,
    )
}


def subject_of(envelope: Envelope) -> str:
    """The subject its owner publishes ``envelope`` on: its type's."""
    subject = _TYPES[envelope.type].message_subject
    assert subject is not None
    return subject


# What each kind says beside the order, its customer and its amount.
_OUTCOMES: dict[str, dict[str, Any]] = {
    "payment.PaymentTaken": {"charge_id": "ch_1", "card_last4": "4242", "taken_at": "2026-12-01T10:00:00Z"},
    "payment.PaymentDeclined": {"decline_code": "insufficient_funds", "declined_at": "2026-12-01T10:00:00Z"},
    "payment.PaymentFailed": {"reason": "provider unavailable", "failed_at": "2026-12-01T10:00:00Z"},
    "order.OrderCancelled": {"reason": "changed my mind", "cancelled_at": "2026-12-01T10:00:00Z"},
    "order.OrderRejected": {"reason": "payment_declined", "detail": "declined", "rejected_at": "2026-12-01T10:00:00Z"},
}

RELEASING = ["payment.PaymentDeclined", "payment.PaymentFailed", "order.OrderCancelled", "order.OrderRejected"]
"""The events after which a choreographed order's stock goes back on the shelf."""


def fulfilment_requested(order_id: str, **quantities: int) -> Envelope:
    """order asking for a choreographed order's fulfilment (``ALB_00001=2`` is 2 units of ALB-00001)."""
    lines = [{"sku": sku.replace("_", "-"), "quantity": quantity} for sku, quantity in quantities.items()]
    data = {
        "order_id": order_id,
        "customer_id": "cus-1",
        "lines": lines,
        "total": {"amount_minor": 1999, "currency": "GBP"},
        "requested_at": datetime.now(UTC).isoformat(),
    }
    return Envelope.new("order.FulfilmentRequested", data, correlation_id=order_id)


def about(order_id: str, event_type: str) -> Envelope:
    """One of payment's or order's other events of the order's fulfilment, ``event_type`` its type name."""
    if event_type.startswith("payment."):
        common: dict[str, Any] = {"customer_id": "cus-1", "amount_minor": 1999, "currency": "GBP"}
    else:
        common = {"customer_id": "cus-1", "total": {"amount_minor": 1999, "currency": "GBP"}}
    return Envelope.new(event_type, {"order_id": order_id, **common, **_OUTCOMES[event_type]}, correlation_id=order_id)
