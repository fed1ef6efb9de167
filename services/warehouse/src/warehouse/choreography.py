"""The warehouse's part in the choreographed fulfilment: what it does when order and payment tell it things.

Nobody sends the warehouse commands for a choreographed order. It reserves the order's lines when order
asks for the order's fulfilment (``FulfilmentRequested``), dispatches when payment has taken the money
(``PaymentTaken``), and puts the stock back when the payment is declined or fails, or the order is
cancelled or rejected. It does each with the operation its command uses (``operations.Warehouse``),
which publishes the same events (``StockReserved``, ``OrderDispatched``, ``StockReleased``); a refusal to
reserve, which a command is answered ``OutOfStock``, is published as ``ReservationRefused``.

Choreographed orders only: the warehouse writes each down in the transaction that reserves or refuses
it, and reacts to payment's and order's events for those alone. Every other order is driven by commands
(orchestrated), so its events are acknowledged and change nothing. Once per order: the first
``FulfilmentRequested`` of an order reserves or refuses it and a repeat changes nothing (not even when a
refused order would fit now); a dispatch or release that was done is not done or announced again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from paved.messaging import Consumer, Handling

from warehouse.announcements import shortages_out
from warehouse.contract import DEFAULT_TTL_SECONDS, RESERVATION_REFUSED_SUBJECT, ReservationRefused
from warehouse.domain import (
    AlreadyDispatchedError,
    Line,
    OutOfStockError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
)
from warehouse.handlers import OpenWarehouse
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
    open_warehouse: OpenWarehouse,
    choreographed_in: ChoreographedOrdersIn,
) -> None:
    """React to ``order_events`` and ``payment_events`` for choreographed orders, with the warehouse's operations."""

    @order_events.handles(FulfilmentRequested)
    async def reserve_for_fulfilment(handling: Handling, event: FulfilmentRequested) -> None:
        orders = choreographed_in(handling)
        if await orders.includes(event.order_id):
            return  # reserved or refused when first asked, and announced then: that stands
        await orders.add(event.order_id, requested_at=event.requested_at)
        warehouse = open_warehouse(handling)
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
            envelope = refused.envelope(caused_by=handling.envelope, correlation_id=event.order_id)
            await handling.outbox.put(handling.session, envelope, subject=RESERVATION_REFUSED_SUBJECT)

    @payment_events.handles(PaymentTaken)
    async def dispatch_once_paid(handling: Handling, event: PaymentTaken) -> None:
        if not await choreographed_in(handling).includes(event.order_id):
            return
        with contextlib.suppress(*_NOTHING_HELD):
            await open_warehouse(handling).dispatch(event.order_id)

    async def release_unless_dispatched(handling: Handling, event: OrderEvent) -> None:
        if not await choreographed_in(handling).includes(event.order_id):
            return
        with contextlib.suppress(*_NOTHING_HELD):
            await open_warehouse(handling).release(event.order_id)

    for paid_nothing in (PaymentDeclined, PaymentFailed):
        payment_events.handles(paid_nothing)(release_unless_dispatched)
    for given_up in (OrderCancelled, OrderRejected):
        order_events.handles(given_up)(release_unless_dispatched)
