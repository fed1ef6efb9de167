"""The warehouse's copies of the events it reacts to in the choreographed fulfilment: order's and payment's.

They belong to those services' contracts (``services/order/src/order/contract.py`` and
``services/payment/src/payment/contract.py``): the type names, versions and streams are theirs, copied
here, never imported; each subject is its type's, as in theirs (tests/unit/test_contract.py pins them).
Each is read tolerantly: only the fields the warehouse uses are declared and the rest are ignored, so
that an owner's compatible change (a new field) does not make the warehouse park its events. What the warehouse does use of ``FulfilmentRequested`` (the order id it keeps, the lines it
reserves) is checked as ``ReserveStock``'s is: an event it could not reserve from is parked with the
reason, not half done.
"""

from __future__ import annotations

from paved.messaging import Event
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from warehouse.contract import OrderId, Quantity, Sku

# Their streams, which the warehouse follows as their owners declare them (it never declares them).
ORDER_EVENTS = "ORDER_EVENTS"
PAYMENT_EVENTS = "PAYMENT_EVENTS"

# The services whose commands the warehouse takes: order's fulfilment alone. A command from any other (or from an
# unknown sender) is parked unhandled; on a locked broker this also lets the warehouse reply on ``order.replies``.
COMMANDS_FROM = ("order",)

_TOLERANT = ConfigDict(extra="ignore", frozen=True)


class RequestedLine(BaseModel):
    model_config = _TOLERANT

    sku: Sku
    quantity: Quantity


class FulfilmentRequested(Event, type="order.FulfilmentRequested", version=1):
    """A choreographed order asks to be fulfilled: the warehouse reserves its lines, or refuses."""

    model_config = _TOLERANT

    order_id: OrderId
    lines: tuple[RequestedLine, ...] = Field(min_length=1, max_length=100)
    requested_at: AwareDatetime


class OrderEvent(Event):
    """An event of an order's fulfilment as the warehouse reads it: which order (nothing else is used)."""

    model_config = _TOLERANT

    # Any string: an order the warehouse cannot know is one it ignores, not one to park.
    order_id: str


class OrderCancelled(OrderEvent, type="order.OrderCancelled", version=1):
    """The customer cancelled the order."""


class OrderRejected(OrderEvent, type="order.OrderRejected", version=1):
    """The order will not be fulfilled."""


class PaymentTaken(OrderEvent, type="payment.PaymentTaken", version=1):
    """The order's amount was charged to the card."""


class PaymentDeclined(OrderEvent, type="payment.PaymentDeclined", version=1):
    """The card was declined: nothing was taken."""


class PaymentFailed(OrderEvent, type="payment.PaymentFailed", version=1):
    """No charge could be made or confirmed: nothing was taken."""
