"""The warehouse's reactions to order's and payment's events, for choreographed orders only.

``register`` turns each event into a use case of ``Warehouse``; the orders known to be choreographed are
kept here, the only part of the warehouse that needs them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from paved.messaging import Consumer, Handling

from warehouse.announcements import shortages_out
from warehouse.contract import DEFAULT_TTL_SECONDS, ReservationRefused
from warehouse.domain import (
    AlreadyDispatchedError,
    Line,
    OutOfStockError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
)
from warehouse.handlers import WarehouseFor
from warehouse.partners import (
    FulfilmentRequested,
    OrderCancelled,
    OrderEvent,
    OrderRejected,
    PaymentDeclined,
    PaymentFailed,
    PaymentTaken,
)


class ChoreographedOrders(Protocol):
    """The orders whose fulfilment is choreographed, as the warehouse learnt them; never forgotten."""

    async def includes(self, order_id: str) -> bool: ...

    async def add(self, order_id: str, *, requested_at: datetime) -> None: ...


ChoreographedOrdersIn = Callable[[Handling], ChoreographedOrders]
"""The choreographed orders, in a handled message's transaction."""

# Refusals that say the order's stock no longer waits to be dispatched or released: none was reserved
# (refused), it went back to the shelf (released, or lapsed: a lapse found now is let go and announced
# before the refusal, and commits with the handling), or it has left.
_NOTHING_HELD = (ReservationNotFoundError, ReservationExpiredError, ReservationReleasedError, AlreadyDispatchedError)


def register(
    order_events: Consumer,
    payment_events: Consumer,
    *,
    warehouse_for: WarehouseFor,
    choreographed_in: ChoreographedOrdersIn,
) -> None:
    """React to ``order_events`` and ``payment_events`` for choreographed orders, with the warehouse's use cases."""

    @order_events.handles(FulfilmentRequested)
    async def reserve_for_fulfilment(handling: Handling, event: FulfilmentRequested) -> None:
        orders = choreographed_in(handling)
        if await orders.includes(event.order_id):
            return  # reserved or refused when first asked, and announced then: that stands
        await orders.add(event.order_id, requested_at=event.requested_at)
        warehouse = warehouse_for(handling)
        try:
            await warehouse.reserve(
                order_id=event.order_id,
                lines=[Line(line.sku, line.quantity) for line in event.lines],
                ttl=timedelta(seconds=DEFAULT_TTL_SECONDS),
            )
        except OutOfStockError as short:
            refused = ReservationRefused(
                order_id=event.order_id, shortages=shortages_out(short.shortages), refused_at=warehouse.clock()
            )
            await handling.send(refused, correlation_id=event.order_id)

    @payment_events.handles(PaymentTaken)
    async def dispatch_once_paid(handling: Handling, event: PaymentTaken) -> None:
        if not await choreographed_in(handling).includes(event.order_id):
            return
        with contextlib.suppress(*_NOTHING_HELD):
            await warehouse_for(handling).dispatch(event.order_id)

    async def release_unless_dispatched(handling: Handling, event: OrderEvent) -> None:
        if not await choreographed_in(handling).includes(event.order_id):
            return
        with contextlib.suppress(*_NOTHING_HELD):
            await warehouse_for(handling).release(event.order_id)

    for paid_nothing in (PaymentDeclined, PaymentFailed):
        payment_events.handles(paid_nothing)(release_unless_dispatched)
    for given_up in (OrderCancelled, OrderRejected):
        order_events.handles(given_up)(release_unless_dispatched)
