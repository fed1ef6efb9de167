"""The events the loyalty service reacts to in the choreographed fulfilment (``fulfilment.py`` says how).

Each is handled in its consumer's transaction, which also records the message as processed (a redelivery
has no second effect) and holds the outbox row of the PointsAwarded or PointsRevoked it leads to. That
event is caused by the payment event and so carries its correlation id: the order's id.
"""

from __future__ import annotations

from collections.abc import Callable

from paved.messaging import Consumer, Handling

from loyalty.choreography.fulfilment import ChoreographedFulfilment
from loyalty.domain import ChoreographedOrder, Money
from loyalty.partners import FulfilmentRequested, PaymentRefunded, PaymentTaken

OpenFulfilment = Callable[[Handling], ChoreographedFulfilment]
"""The reactions in a handled event's transaction, announcing as caused by that event."""


def register(*, order_events: Consumer, payment_events: Consumer, open_fulfilment: OpenFulfilment) -> None:
    """React to order's events from ``order_events`` and payment's from ``payment_events``."""

    @order_events.handles(FulfilmentRequested)
    async def remember_choreographed_order(handling: Handling, event: FulfilmentRequested) -> None:
        order = ChoreographedOrder(
            order_id=event.order_id,
            customer_id=event.customer_id,
            total=Money(event.total.amount_minor, event.total.currency),
            requested_at=event.requested_at,
        )
        await open_fulfilment(handling).fulfilment_requested(order)

    @payment_events.handles(PaymentTaken)
    async def award_points_when_paid(handling: Handling, event: PaymentTaken) -> None:
        await open_fulfilment(handling).payment_taken(order_id=event.order_id, customer_id=event.customer_id)

    @payment_events.handles(PaymentRefunded)
    async def revoke_points_when_refunded(handling: Handling, event: PaymentRefunded) -> None:
        await open_fulfilment(handling).payment_refunded(order_id=event.order_id, customer_id=event.customer_id)
