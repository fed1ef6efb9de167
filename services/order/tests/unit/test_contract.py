"""The subjects on the wire, pinned: each is derived from a message's type, so a rename could move it."""

from __future__ import annotations

from paved.messaging import Message

from order import contract, partners
from order.app import create_service
from order.settings import OrderSettings


def subject(message: type[Message]) -> str | None:
    return message.message_subject


def test_every_event_order_publishes_goes_out_on_the_subject_its_consumers_know() -> None:
    """Each of order's events has the literal subject it has on the wire today."""
    assert subject(contract.OrderPlaced) == "order.events.order-placed"
    assert subject(contract.OrderDispatched) == "order.events.order-dispatched"
    assert subject(contract.OrderRejected) == "order.events.order-rejected"
    assert subject(contract.OrderCancelled) == "order.events.order-cancelled"
    assert subject(contract.FulfilmentRequested) == "order.events.fulfilment-requested"


def test_the_owned_stream_takes_every_event() -> None:
    """ORDER_EVENTS is order's stream, and it takes the subject of each event order publishes."""
    assert (contract.EVENTS.name, contract.EVENTS.subjects) == ("ORDER_EVENTS", ["order.events.>"])


def test_every_command_goes_to_the_subject_its_owner_consumes() -> None:
    """The partners' commands go where the warehouse, payment and loyalty take them today."""
    assert subject(partners.ReserveStock) == "warehouse.commands.reserve-stock"
    assert subject(partners.ReleaseStock) == "warehouse.commands.release-stock"
    assert subject(partners.DispatchOrder) == "warehouse.commands.dispatch-order"
    assert subject(partners.TakePayment) == "payment.commands.take-payment"
    assert subject(partners.RefundPayment) == "payment.commands.refund-payment"
    assert subject(partners.KeepCard) == "payment.commands.keep-card"
    assert subject(partners.AwardPoints) == "loyalty.commands.award-points"
    assert subject(partners.RevokePoints) == "loyalty.commands.revoke-points"


def test_the_partners_events_are_read_on_the_subjects_their_owners_publish() -> None:
    """A choreographed order follows the partners' events on the subjects their owners publish them on."""
    assert subject(partners.StockReserved) == "warehouse.events.stock-reserved"
    assert subject(partners.ReservationRefused) == "warehouse.events.reservation-refused"
    assert subject(partners.StockReleased) == "warehouse.events.stock-released"
    assert subject(partners.OrderDispatched) == "warehouse.events.order-dispatched"
    assert subject(partners.PaymentTaken) == "payment.events.payment-taken"
    assert subject(partners.PaymentDeclined) == "payment.events.payment-declined"
    assert subject(partners.PaymentFailed) == "payment.events.payment-failed"
    assert subject(partners.PaymentRefunded) == "payment.events.payment-refunded"
    assert subject(partners.PointsAwarded) == "loyalty.events.points-awarded"


def test_replies_only_come_back_to_whoever_asked() -> None:
    """The replies that are no partner's events have no subject: they arrive on order's reply subject."""
    assert [subject(m) for m in (partners.OutOfStock, partners.ReservationNotFound, partners.NothingToRefund)] == [
        None,
        None,
        None,
    ]


def test_order_owns_its_events_and_replies_and_follows_the_partners_streams() -> None:
    """The service declares only its own streams; each consumer binds to the stream and subjects as today."""
    messaging = create_service(OrderSettings()).messaging
    assert [(s.name, s.subjects) for s in messaging.streams] == [
        ("ORDER_EVENTS", ["order.events.>"]),
        ("ORDER_REPLIES", ["order.replies"]),
    ]
    assert sorted(f.name for f in messaging.followed) == ["LOYALTY_EVENTS", "PAYMENT_EVENTS", "WAREHOUSE_EVENTS"]
    assert {c.name: (c.stream, sorted(c.subject_filter())) for c in messaging.consumers} == {
        "order-replies": ("ORDER_REPLIES", ["order.replies"]),
        "order-follows-warehouse_events": (
            "WAREHOUSE_EVENTS",
            [
                "warehouse.events.order-dispatched",
                "warehouse.events.reservation-refused",
                "warehouse.events.stock-released",
                "warehouse.events.stock-reserved",
            ],
        ),
        "order-follows-payment_events": (
            "PAYMENT_EVENTS",
            [
                "payment.events.payment-declined",
                "payment.events.payment-failed",
                "payment.events.payment-refunded",
                "payment.events.payment-taken",
            ],
        ),
        "order-follows-loyalty_events": ("LOYALTY_EVENTS", ["loyalty.events.points-awarded"]),
        "order-saga-view-order_events": ("ORDER_EVENTS", ["order.events.>"]),
        "order-saga-view-warehouse_events": ("WAREHOUSE_EVENTS", ["warehouse.events.>"]),
        "order-saga-view-payment_events": ("PAYMENT_EVENTS", ["payment.events.>"]),
        "order-saga-view-loyalty_events": ("LOYALTY_EVENTS", ["loyalty.events.>"]),
    }
