"""The choreographed fulfilment, as order takes part in it: nobody drives it, everybody reacts.

A choreographed order publishes ``order.FulfilmentRequested`` (and sends payment its card) when it is
placed; the warehouse reserves, payment charges once the stock is reserved, loyalty awards once the
payment is taken, the warehouse dispatches once it is paid, and each says so in its events. order follows
those events to keep its own order's status, history and facts (the same ``Order`` methods the
orchestrated saga's changes call), and keeps paved's saga view of the whole process, so that
``paved sagas show ord-…`` answers "where is it?" for both styles (docs/sagas.md).

Events of orchestrated orders pass by too (partners publish them either way): order's reaction ignores
them, and the view leaves them to the orchestrated saga that owns their id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from paved.messaging import Handling, Messaging
from paved.sagas import Milestone, SagaTables, SagaView

from order import contract, partners
from order.domain import FulfilmentStyle, Step
from order.facts import RejectionReason
from order.fulfilment import OpensStores, describe_shortages
from order.lifecycle import Order, OrderStatus
from order.orders import announce

log = structlog.get_logger(logger_name="order.choreography")

# The partners' event streams, declared here exactly as their owners declare them: a durable consumer
# cannot be made on a stream that does not exist yet (see docs/notification.md).
STREAMS = {
    "WAREHOUSE_EVENTS": "warehouse.events.>",
    "PAYMENT_EVENTS": "payment.events.>",
    "LOYALTY_EVENTS": "loyalty.events.>",
}
FOLLOWED = {
    "WAREHOUSE_EVENTS": (
        partners.StockReserved,
        partners.ReservationRefused,
        partners.StockReleased,
        partners.OrderDispatched,
    ),
    "PAYMENT_EVENTS": (
        partners.PaymentTaken,
        partners.PaymentDeclined,
        partners.PaymentFailed,
        partners.PaymentRefunded,
    ),
    "LOYALTY_EVENTS": (partners.PointsAwarded,),
}
SUBJECTS = {
    "WAREHOUSE_EVENTS": [
        "warehouse.events.stock-reserved",
        "warehouse.events.reservation-refused",
        "warehouse.events.stock-released",
        "warehouse.events.order-dispatched",
    ],
    "PAYMENT_EVENTS": [
        "payment.events.payment-taken",
        "payment.events.payment-declined",
        "payment.events.payment-failed",
        "payment.events.payment-refunded",
    ],
    "LOYALTY_EVENTS": ["loyalty.events.points-awarded"],
}


def fulfilment_view() -> SagaView:
    """Where a choreographed order is, for a person: the milestones of its process, by the events that
    mark them. The state follows the latest milestone by when it happened; a final one ends the process."""
    return SagaView(
        "fulfilment-choreographed",
        Milestone(contract.OrderPlaced.message_type, "placed", starts=True),
        Milestone(contract.FulfilmentRequested.message_type, "placed", starts=True),
        Milestone(partners.StockReserved.message_type, "stock_reserved"),
        Milestone(partners.ReservationRefused.message_type, "out_of_stock", final=True),
        Milestone(partners.PaymentTaken.message_type, "paid"),
        Milestone(partners.PaymentDeclined.message_type, "payment_declined"),
        Milestone(partners.PaymentFailed.message_type, "payment_failed"),
        Milestone(partners.PointsAwarded.message_type, "points_awarded"),
        Milestone(partners.OrderDispatched.message_type, "dispatched", final=True),
        Milestone(contract.OrderCancelled.message_type, "cancelled"),
        Milestone(partners.PaymentRefunded.message_type, "refunded"),
        Milestone(partners.StockReleased.message_type, "released", final=True),
    )


def follow(order: Order, event: partners.Answer, *, at: datetime) -> None:
    """What a partner's event means for a choreographed ``order`` (pure: tested without I/O).

    order reads each partner's stream with its own consumer, so it may see the dispatch before the
    payment, or the payment before the reservation. An event implies the steps it follows from: those not
    seen yet are taken as done first, and their own events, when they come, change nothing.
    """
    match event:
        case partners.StockReserved():
            order.stock_reserved(at=at)
        case partners.ReservationRefused():
            order.out_of_stock(describe_shortages(event), at=at)
        case partners.PaymentTaken():
            _reserved(order, at)
            order.payment_taken(at=at)
        case partners.PaymentDeclined(decline_code=code):
            _reserved(order, at)
            order.payment_refused(RejectionReason.PAYMENT_DECLINED, f"the card was declined ({code})", at=at)
        case partners.PaymentFailed(reason=reason):
            _reserved(order, at)
            order.payment_refused(RejectionReason.PAYMENT_FAILED, f"the payment failed ({reason})", at=at)
        case partners.PointsAwarded(points=points):
            order.points_awarded(points, at=at)
        case partners.OrderDispatched():
            _reserved(order, at)
            if order.status is OrderStatus.STOCK_RESERVED:
                order.payment_taken(at=at)
            order.dispatched(at=at)
        case partners.StockReleased(reason=reason) if order.status is OrderStatus.PAID:
            # Paid, and the warehouse let the hold go before dispatching: a person has to look.
            order.needs_attention(f"the warehouse no longer holds the stock of a paid order ({reason})", at=at)
        case partners.StockReleased():
            order.undone(Step.RESERVE_STOCK, None, at=at)
        case partners.PaymentRefunded():
            order.undone(Step.TAKE_PAYMENT, None, at=at)


def _reserved(order: Order, at: datetime) -> None:
    if order.status is OrderStatus.PLACED:
        order.stock_reserved(at=at)


class Choreography:
    """order's part in the choreographed fulfilment: follow the partners' events for its own orders."""

    def __init__(self, *, stores: OpensStores, clock: Callable[[], datetime]) -> None:
        self.stores = stores
        self.clock = clock

    def take_part(self, messaging: Messaging, *, tables: SagaTables) -> None:
        """Declare the consumers of the partners' events, and the saga view of the whole process."""
        for stream, subjects in STREAMS.items():
            messaging.stream(stream, subjects=[subjects])
            consumer = messaging.consumer(f"order-follows-{stream.lower()}", stream=stream, subjects=SUBJECTS[stream])
            for event_type in FOLLOWED[stream]:
                consumer.handles(event_type)(self.followed)
        fulfilment_view().observe(
            messaging,
            tables=tables,
            consumer="order-saga-view",
            streams={
                contract.EVENTS_STREAM: [contract.EVENTS_SUBJECTS],
                **{s: [subjects] for s, subjects in STREAMS.items()},
            },
        )

    async def followed(self, handling: Handling, event: partners.Answer) -> None:
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
