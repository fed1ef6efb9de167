"""order's handlers of the partners' events, for its choreographed orders (``register``).

One durable consumer per partner stream, which order follows (their owners declare them), taking the
subjects of the events it handles; and paved's saga view of the whole process (``view``).
"""

from __future__ import annotations

import structlog
from paved import Clock
from paved.messaging import Handling, Messaging
from paved.sagas import SagaTables

from order import partners
from order.choreography import view
from order.choreography.following import follow
from order.domain import FulfilmentStyle
from order.fulfilment import OpensStores
from order.use_cases import announce

log = structlog.get_logger(logger_name="order.choreography")

# The partners' events a choreographed order moves on, by the stream each is published to.
FOLLOWED: dict[str, tuple[type[partners.Told], ...]] = {
    partners.WAREHOUSE_EVENTS: (
        partners.StockReserved,
        partners.ReservationRefused,
        partners.StockReleased,
        partners.OrderDispatched,
    ),
    partners.PAYMENT_EVENTS: (
        partners.PaymentTaken,
        partners.PaymentDeclined,
        partners.PaymentFailed,
        partners.PaymentRefunded,
    ),
    partners.LOYALTY_EVENTS: (partners.PointsAwarded,),
}


class Choreography:
    """order's part in the choreographed fulfilment: follow the partners' events for its own orders."""

    def __init__(self, *, stores: OpensStores, clock: Clock) -> None:
        self.stores = stores
        self.clock = clock

    async def followed(self, handling: Handling, event: partners.Told) -> None:
        """Move the event's order on, if it is a choreographed order of order's."""
        store = self.stores.store_in(handling.session)
        # The style first, in one column: most events on these streams may be of orchestrated orders.
        style = await store.orders.fulfilment_of(event.order_id)
        if style is None:
            log.warning(
                "event for an order order does not know; ignored", order_id=event.order_id, type=event.message_type
            )
            return
        if style is not FulfilmentStyle.CHOREOGRAPHED:
            return  # its saga was told by the reply to its command
        order = await store.orders.get(event.order_id, for_update=True)
        follow(order, event, at=self.clock())
        await store.orders.save(order)
        await announce(store, order)


def register(messaging: Messaging, *, stores: OpensStores, clock: Clock, tables: SagaTables) -> None:
    """Follow the partners' event streams with order's consumers, and keep the saga view of the process."""
    choreography = Choreography(stores=stores, clock=clock)
    for stream, event_types in FOLLOWED.items():
        consumer = messaging.consumer(f"order-follows-{stream.lower()}", stream=messaging.follow(stream))
        for event_type in event_types:
            consumer.handles(event_type)(choreography.followed)
    view.observe(messaging, tables=tables)
