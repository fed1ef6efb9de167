"""What a partner's event means for a choreographed order: pure, tested without I/O."""

from __future__ import annotations

from datetime import datetime

from order import partners
from order.domain import Step
from order.facts import RejectionReason
from order.fulfilment import describe_shortages
from order.lifecycle import Order, OrderStatus


def follow(order: Order, event: partners.Answer, *, at: datetime) -> None:
    """What a partner's event means for a choreographed ``order`` (pure: tested without I/O).

    order reads each partner's stream with its own consumer, so it may see the dispatch before the
    payment, or the payment before the reservation. An event implies the steps it follows from: those not
    seen yet are taken as done first, and their own events, when they come, change nothing.
    """
    match event:
        case partners.StockReserved():
            order.reserve(at=at)
        case partners.ReservationRefused():
            order.reject_for_shortage(describe_shortages(event), at=at)
        case partners.PaymentTaken():
            _reserved(order, at)
            order.pay(at=at)
        case partners.PaymentDeclined(decline_code=code):
            _reserved(order, at)
            order.reject_for_payment(RejectionReason.PAYMENT_DECLINED, f"the card was declined ({code})", at=at)
        case partners.PaymentFailed(reason=reason):
            _reserved(order, at)
            order.reject_for_payment(RejectionReason.PAYMENT_FAILED, f"the payment failed ({reason})", at=at)
        case partners.PointsAwarded(points=points):
            order.award_points(points, at=at)
        case partners.OrderDispatched():
            _reserved(order, at)
            if order.status is OrderStatus.STOCK_RESERVED:
                order.pay(at=at)
            order.dispatch(at=at)
        case partners.StockReleased(reason=reason) if order.status is OrderStatus.PAID:
            # Paid, and the warehouse let the hold go before dispatching: a person has to look.
            order.ask_for_attention(f"the warehouse no longer holds the stock of a paid order ({reason})", at=at)
        case partners.StockReleased():
            order.note_undone(Step.RESERVE_STOCK, None, at=at)
        case partners.PaymentRefunded():
            order.note_undone(Step.TAKE_PAYMENT, None, at=at)


def _reserved(order: Order, at: datetime) -> None:
    if order.status is OrderStatus.PLACED:
        order.reserve(at=at)
