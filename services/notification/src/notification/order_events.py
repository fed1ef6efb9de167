"""The events notification reads from order, copied from order's contract (``order/contract.py``).

Copied, never imported: notification builds and deploys on its own. The type names, versions, stream and
subjects are order's, exactly; the fields are only those notification uses, and anything else order
sends is ignored (a tolerant reader), so that order's compatible changes (new fields, new rejection
codes) need no change here. What notification does use is checked: an event it could not write a true
email from is parked in the dead letters with the reason, not mailed half-right.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Event
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ORDER_EVENTS_STREAM = "ORDER_EVENTS"
ORDER_EVENTS_SUBJECTS = "order.events.>"
ORDER_PLACED_SUBJECT = "order.events.order-placed"
ORDER_DISPATCHED_SUBJECT = "order.events.order-dispatched"
ORDER_REJECTED_SUBJECT = "order.events.order-rejected"
ORDER_CANCELLED_SUBJECT = "order.events.order-cancelled"
# The subjects of the events notification handles, not all of order's: an event order adds later on a
# subject of its own is none of notification's business, and would otherwise be parked as unknown.
HANDLED_SUBJECTS = [ORDER_PLACED_SUBJECT, ORDER_DISPATCHED_SUBJECT, ORDER_REJECTED_SUBJECT, ORDER_CANCELLED_SUBJECT]

# identity's account ids, which order's customer ids are: the subject of the customer's access token.
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"

_TOLERANT = ConfigDict(extra="ignore", frozen=True)


class Money(BaseModel):
    model_config = _TOLERANT

    amount_minor: int
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class PlacedLine(BaseModel):
    model_config = _TOLERANT

    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    quantity: int = Field(ge=1)
    unit_price: Money


class _OrderEvent(Event):
    """What every order event carries: whose order, which, and its total."""

    model_config = _TOLERANT

    order_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    customer_id: Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
    total: Money


class OrderPlaced(_OrderEvent, type="order.OrderPlaced", version=1):
    """A customer placed an order; its fulfilment has started."""

    lines: list[PlacedLine]


class OrderDispatched(_OrderEvent, type="order.OrderDispatched", version=1):
    """The order's parcel left the warehouse for the customer."""


class OrderRejected(_OrderEvent, type="order.OrderRejected", version=1):
    """The order will not be fulfilled; whatever was reserved or charged for it is being given back."""

    # order's is a fixed set of codes; read as any string, so that a code order adds is mailed, not parked.
    reason: Annotated[str, StringConstraints(max_length=100)]


class OrderCancelled(_OrderEvent, type="order.OrderCancelled", version=1):
    """The customer cancelled the order before paying; its stock is being released."""

    reason: Annotated[str, StringConstraints(max_length=300)]


ORDER_EVENTS: tuple[type[_OrderEvent], ...] = (OrderPlaced, OrderDispatched, OrderRejected, OrderCancelled)
