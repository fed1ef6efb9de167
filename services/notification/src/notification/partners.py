"""What notification relies on of others: order's events it reads, and the stream they are on.

Copied from order's contract (``order/contract.py``), never imported: notification builds and deploys
on its own. The type names and versions are order's, exactly, and so are the subjects they derive
(``order.events.order-placed``, …); order owns the stream, which notification only follows. The fields
are only those notification uses, and anything else order sends is ignored (a tolerant reader), so
that order's compatible changes (new fields, new rejection codes) need no change here. What
notification does use is checked: an event it could not write a true email from is parked in the dead
letters with the reason, not mailed half-right.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Event
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ORDER_EVENTS = "ORDER_EVENTS"
"""order's stream of events, which notification follows (order declares it)."""

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


HANDLED: tuple[type[_OrderEvent], ...] = (OrderPlaced, OrderDispatched, OrderRejected, OrderCancelled)
"""The events notification handles, not all of order's: an event order adds later, on a subject of its
own, is none of notification's business (its consumer takes only these types' subjects)."""
