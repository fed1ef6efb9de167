"""The events loyalty reacts to in the choreographed fulfilment, copied from their owners' contracts.

``order.FulfilmentRequested`` is order's (``services/order/src/order/contract.py``); ``payment.PaymentTaken``
and ``payment.PaymentRefunded`` are payment's (``services/payment/src/payment/contract.py``). Copied, never
imported: loyalty builds and deploys on its own. Type names, versions, streams and subjects (derived from the
types, as the owners' are) are the owners', exactly; the fields are only those loyalty uses, and the rest is
ignored (a tolerant reader), so that an owner's compatible change (a new field) does not make loyalty park its
events.

What loyalty keeps from an order is checked as AwardPoints checks it: an order it could not award is parked
with the reason when it is requested, not found wanting when its payment is taken. The payment events are
read loosely on purpose: most are about orchestrated orders, which loyalty only looks up and ignores, and
payment's ids are not bound to loyalty's pattern.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Event
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from loyalty.contract import CustomerId, OrderId

# The services whose commands loyalty takes: order's fulfilment alone. A command from any other (or from an
# unknown sender) is parked unhandled; on a locked broker this also lets loyalty reply on ``order.replies``.
COMMANDS_FROM = ("order",)

# The streams loyalty follows, as their owners name them; only order and payment declare them.
ORDER_EVENTS = "ORDER_EVENTS"
PAYMENT_EVENTS = "PAYMENT_EVENTS"

_TOLERANT = ConfigDict(extra="ignore", frozen=True)


class Total(BaseModel):
    """An order's total as order sends it, held to what AwardPoints takes as an amount."""

    model_config = _TOLERANT

    amount_minor: int = Field(strict=True, ge=0, le=10**12)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class FulfilmentRequested(Event, type="order.FulfilmentRequested", version=1):
    """A customer placed an order whose fulfilment is choreographed (order publishes it for no other)."""

    model_config = _TOLERANT

    order_id: OrderId
    customer_id: CustomerId
    total: Total
    requested_at: AwareDatetime


class PaymentTaken(Event, type="payment.PaymentTaken", version=1):
    """The order's amount was charged to the card."""

    model_config = _TOLERANT

    order_id: str
    customer_id: str


class PaymentRefunded(Event, type="payment.PaymentRefunded", version=1):
    """The order's money went back to the card."""

    model_config = _TOLERANT

    order_id: str
    customer_id: str
