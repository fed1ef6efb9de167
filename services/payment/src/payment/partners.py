"""The events payment reads from the warehouse and order (choreographed orders), copied from their contracts.

Copied, never imported (``services/warehouse/src/warehouse/contract.py``, ``services/order/src/order/contract.py``):
the type names, versions, streams and subjects (derived from the types: ``warehouse.events.stock-reserved``,
``order.events.order-cancelled``, ``order.events.order-rejected``) are theirs, exactly. The fields are only
those payment uses, and the rest is ignored (a tolerant reader), so that a compatible change of theirs needs
no change here.
"""

from __future__ import annotations

from paved.messaging import Event
from pydantic import ConfigDict

from payment.contract import OrderId

# The owners' streams, followed: the warehouse and order declare them, and payment's consumers bind to them
# as their owners made them (and wait for them, if payment starts first).
WAREHOUSE_EVENTS = "WAREHOUSE_EVENTS"
ORDER_EVENTS = "ORDER_EVENTS"

# The services whose commands payment takes: order's fulfilment alone. A command from any other (or from an
# unknown sender) is parked unhandled; on a locked broker this also lets payment reply on ``order.replies``.
COMMANDS_FROM = ("order",)


class _OrderEvent(Event):
    """An event about an order, read for its order id alone."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Checked as payment checks its own commands' order ids: one it could not store is parked, with the reason.
    order_id: OrderId


class StockReserved(_OrderEvent, type="warehouse.StockReserved", version=1):
    """The warehouse holds the order's lines for it."""


class OrderCancelled(_OrderEvent, type="order.OrderCancelled", version=1):
    """The customer cancelled the order."""


class OrderRejected(_OrderEvent, type="order.OrderRejected", version=1):
    """The order will not be fulfilled."""
