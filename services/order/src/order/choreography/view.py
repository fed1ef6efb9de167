"""paved's saga view of the choreographed fulfilment: where a choreographed order is, for a person.

``paved sagas show ord-…`` answers from it as it does for an orchestrated order's saga (docs/sagas.md).
"""

from __future__ import annotations

from paved.messaging import Messaging
from paved.sagas import Milestone, SagaTables, SagaView

from order import contract, partners

# The streams the view reads, with the subjects it takes of each: order's own and the partners' events.
OBSERVED = {
    contract.EVENTS.name: contract.EVENTS.subjects,
    partners.WAREHOUSE_EVENTS: ["warehouse.events.>"],
    partners.PAYMENT_EVENTS: ["payment.events.>"],
    partners.LOYALTY_EVENTS: ["loyalty.events.>"],
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


def observe(messaging: Messaging, *, tables: SagaTables) -> None:
    """Keep the view from the events of order's stream (owned) and the partners' (followed)."""
    fulfilment_view().observe(messaging, tables=tables, consumer="order-saga-view", streams=OBSERVED)
