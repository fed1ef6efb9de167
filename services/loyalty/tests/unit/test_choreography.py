from __future__ import annotations

from datetime import UTC, datetime

from paved.messaging import Consumer
from paved.testing import RecordingOutbox, handling_of

from loyalty.choreography import handlers
from loyalty.choreography.fulfilment import ChoreographedFulfilment
from loyalty.domain import EntryKind, Money
from loyalty.partners import FulfilmentRequested, PaymentRefunded, PaymentTaken, Total
from loyalty.use_cases import PointsBook

from .fakes import Announced, FakeChoreographedOrders, FakeLedger, ManualClock

CUSTOMER = "acc_ann"


class Reactions:
    """loyalty's reactions to the choreographed fulfilment's events, over a fake ledger and fake orders."""

    def __init__(self) -> None:
        self.ledger = FakeLedger()
        self.orders = FakeChoreographedOrders()
        self.announced = Announced()
        self.order_events = Consumer(name="loyalty-order-events", stream="ORDER_EVENTS")
        self.payment_events = Consumer(name="loyalty-payment-events", stream="PAYMENT_EVENTS")
        fulfilment = ChoreographedFulfilment(
            self.orders, PointsBook(self.ledger, announce=self.announced, clock=ManualClock())
        )
        handlers.register(
            order_events=self.order_events, payment_events=self.payment_events, open_fulfilment=lambda _: fulfilment
        )
        # Announcements go through the fake; nothing else may be sent (the outbound edge, recorded).
        self.outbox = RecordingOutbox()

    async def handle(self, *events: FulfilmentRequested | PaymentTaken | PaymentRefunded) -> None:
        """Handle each event as its consumer does, with the order id as the correlation id."""
        for event in events:
            consumer = self.order_events if isinstance(event, FulfilmentRequested) else self.payment_events
            handling = handling_of(event, outbox=self.outbox, correlation_id=event.order_id)
            await consumer.handlers[type(event)](handling, event)

    def announced_kinds(self) -> list[str]:
        """What each announcement said of its order: awarded, or revoked."""
        return ["revoked" if order.revoke else "awarded" for order in self.announced.orders]


def requested(order_id: str = "o-1", amount_minor: int = 1299, customer_id: str = CUSTOMER) -> FulfilmentRequested:
    return FulfilmentRequested(
        order_id=order_id,
        customer_id=customer_id,
        total=Total(amount_minor=amount_minor, currency="GBP"),
        requested_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )


def taken(order_id: str = "o-1", customer_id: str = CUSTOMER) -> PaymentTaken:
    return PaymentTaken(order_id=order_id, customer_id=customer_id)


def refunded(order_id: str = "o-1", customer_id: str = CUSTOMER) -> PaymentRefunded:
    return PaymentRefunded(order_id=order_id, customer_id=customer_id)


async def test_a_requested_order_is_remembered_and_earns_nothing_yet() -> None:
    """FulfilmentRequested only remembers the order: no points before its payment is taken."""
    choreography = Reactions()
    await choreography.handle(requested())
    assert set(choreography.orders.orders) == {(CUSTOMER, "o-1")}
    assert choreography.ledger.entries == {} and choreography.announced.orders == []


async def test_a_choreographed_order_is_awarded_on_its_total_when_paid() -> None:
    """PaymentTaken for a remembered order awards one point per 100 minor units of its total, announced once."""
    choreography = Reactions()
    await choreography.handle(requested(amount_minor=1299), taken())
    assert choreography.ledger.balances == {CUSTOMER: 12}
    [order] = choreography.announced.orders
    assert order.award is not None and (order.award.points, order.award.amount) == (12, Money(1299, "GBP"))


async def test_payment_events_of_an_order_not_remembered_have_no_effect() -> None:
    """An orchestrated order's PaymentTaken and PaymentRefunded leave no entry, not even a tombstone."""
    choreography = Reactions()
    await choreography.handle(requested("o-choreographed"), taken("o-orchestrated"), refunded("o-orchestrated"))
    assert choreography.ledger.entries == {} and choreography.ledger.balances == {}
    assert choreography.announced.orders == []
    assert choreography.outbox.sent == []


async def test_a_payment_event_naming_another_customer_finds_no_order() -> None:
    """The order is found under the customer it was requested for only: another customer's event has no effect."""
    choreography = Reactions()
    await choreography.handle(requested(), taken(customer_id="acc_bob"))
    assert choreography.ledger.entries == {} and choreography.announced.orders == []


async def test_a_repeated_payment_taken_awards_once() -> None:
    """The same order's PaymentTaken in two messages: one award, one announcement."""
    choreography = Reactions()
    await choreography.handle(requested(), taken(), taken())
    assert choreography.ledger.balances == {CUSTOMER: 12}
    assert choreography.announced_kinds() == ["awarded"]


async def test_the_first_fulfilment_requested_of_an_order_stands() -> None:
    """A second FulfilmentRequested for the same order changes nothing: the award is on the first total."""
    choreography = Reactions()
    await choreography.handle(requested(amount_minor=1299), requested(amount_minor=99_999), taken())
    assert choreography.ledger.balances == {CUSTOMER: 12}


async def test_a_refund_takes_back_the_orders_points() -> None:
    """PaymentRefunded after PaymentTaken revokes what the order earned, once, whatever repeats."""
    choreography = Reactions()
    await choreography.handle(requested("o-1", 1299), requested("o-2", 500), taken("o-1"), taken("o-2"))
    await choreography.handle(refunded("o-1"), refunded("o-1"))
    assert choreography.ledger.balances == {CUSTOMER: 5}
    assert choreography.announced_kinds() == ["awarded", "awarded", "revoked"]


async def test_a_refund_that_overtakes_the_payment_keeps_the_points_away() -> None:
    """PaymentRefunded first is recorded as revoking nothing, and the PaymentTaken after it earns nothing."""
    choreography = Reactions()
    await choreography.handle(requested(), refunded(), taken())
    assert choreography.ledger.balances == {CUSTOMER: 0}
    assert [(e.kind, e.points) for e in choreography.ledger.entries[CUSTOMER]] == [(EntryKind.REVOKE, 0)]
    assert choreography.announced_kinds() == ["revoked"]


async def test_a_payment_heard_before_its_orders_request_is_awarded_when_the_request_comes() -> None:
    """The two events come through two consumers: the request catches up with a payment noted before it."""
    choreography = Reactions()
    await choreography.handle(taken())
    assert choreography.ledger.balances == {}
    await choreography.handle(requested())
    assert choreography.ledger.balances == {CUSTOMER: 12}
    assert choreography.announced_kinds() == ["awarded"]


async def test_a_payment_and_its_refund_heard_before_the_request_leave_no_points() -> None:
    """Both payment events noted before the request: the request awards and revokes, and the balance is zero."""
    choreography = Reactions()
    await choreography.handle(taken(), refunded(), requested())
    assert choreography.ledger.balances == {CUSTOMER: 0}
