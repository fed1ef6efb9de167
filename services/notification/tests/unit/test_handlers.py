from __future__ import annotations

from datetime import UTC, datetime

import pytest
from paved import Envelope
from paved.messaging import Consumer, Message, MessageTypes, UnacceptableMessage
from paved.testing import handling_of

from notification import handlers
from notification.domain import EmailStatus, NoticeKind, RetryPolicy
from notification.partners import ORDER_EVENTS, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected
from notification.use_cases import Notifications

from .fakes import FakeClock, FakeEmails, FakeMailer, FakeUnitOfWork

TOTAL = {"amount_minor": 2598, "currency": "GBP"}
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC).isoformat()
# What order's contract sends, every field of it: notification reads only some, and must take them all.
EVENTS: dict[type[Message], dict[str, object]] = {
    OrderPlaced: {
        "order_id": "ord-1",
        "customer_id": "acc_ann",
        "lines": [
            {
                "sku": "ALB-00001",
                "title": "Kind of Blue",
                "quantity": 2,
                "unit_price": {"amount_minor": 1299, "currency": "GBP"},
            }
        ],
        "total": TOTAL,
        "placed_at": AT,
    },
    OrderDispatched: {"order_id": "ord-1", "customer_id": "acc_ann", "total": TOTAL, "dispatched_at": AT},
    OrderRejected: {
        "order_id": "ord-1",
        "customer_id": "acc_ann",
        "total": TOTAL,
        "reason": "payment_declined",
        "detail": "the card issuer said no",
        "rejected_at": AT,
    },
    OrderCancelled: {
        "order_id": "ord-1",
        "customer_id": "acc_ann",
        "total": TOTAL,
        "reason": "cancelled by the customer",
        "cancelled_at": AT,
    },
}


@pytest.fixture
def consumer() -> tuple[Consumer, FakeEmails]:
    consumer = Consumer(name="notification-orders", stream=ORDER_EVENTS)
    emails = FakeEmails()
    ids = iter(f"msg_{n}" for n in range(100))
    notifications = Notifications(
        uow=FakeUnitOfWork(), mailer=FakeMailer(), policy=RetryPolicy(), clock=FakeClock(), new_id=lambda: next(ids)
    )
    handlers.register(consumer, notifications=notifications, emails_in=lambda _: emails)
    return consumer, emails


def test_the_consumer_takes_the_subjects_of_orders_four_events_only(consumer: tuple[Consumer, FakeEmails]) -> None:
    """The consumer's filter is the subjects of the events it handles, as order publishes them; no other of order's."""
    handled, _ = consumer
    assert handled.subject_filter() == [
        "order.events.order-cancelled",
        "order.events.order-dispatched",
        "order.events.order-placed",
        "order.events.order-rejected",
    ]


async def deliver(
    consumer: Consumer, event_type: type[Message], data: dict[str, object], *, version: int = 1
) -> Envelope:
    """Parse and handle one envelope as paved's consumer runner does."""
    envelope = Envelope.new(event_type.message_type, data, version=version)
    message = MessageTypes(*consumer.handlers).parse(envelope)
    # The handlers reach the store through emails_in (the fake here): a session they used would fail the test.
    handling = handling_of(message)
    await consumer.handlers[type(message)](handling, message)
    return handling.envelope


@pytest.mark.parametrize(
    ("event_type", "kind", "subject"),
    [
        (OrderPlaced, NoticeKind.ORDER_PLACED, "We have your order ord-1"),
        (OrderDispatched, NoticeKind.ORDER_DISPATCHED, "Your order ord-1 is on its way"),
        (OrderRejected, NoticeKind.ORDER_REJECTED, "We could not complete your order ord-1"),
        (OrderCancelled, NoticeKind.ORDER_CANCELLED, "Your order ord-1 is cancelled"),
    ],
)
async def test_each_order_event_queues_one_email_to_its_customer(
    consumer: tuple[Consumer, FakeEmails], event_type: type[Message], kind: NoticeKind, subject: str
) -> None:
    """Every event order sends becomes one queued email to the order's customer, tied to the event's id."""
    handled, emails = consumer
    envelope = await deliver(handled, event_type, EVENTS[event_type])
    [email] = emails.rows.values()
    assert (email.recipient, email.kind, email.subject, email.status) == ("acc_ann", kind, subject, EmailStatus.QUEUED)
    assert email.event_id == envelope.id and email.order_id == "ord-1"


async def test_the_confirmation_lists_what_order_says_was_ordered(consumer: tuple[Consumer, FakeEmails]) -> None:
    """OrderPlaced's lines, with their titles and prices, make the confirmation's list."""
    handled, emails = consumer
    await deliver(handled, OrderPlaced, EVENTS[OrderPlaced])
    [email] = emails.rows.values()
    assert "2 x Kind of Blue at 12.99 GBP" in email.body and "Total: 25.98 GBP" in email.body


async def test_fields_order_adds_later_are_ignored(consumer: tuple[Consumer, FakeEmails]) -> None:
    """A tolerant reader: a compatible change to order's events (a new field) still makes the email."""
    handled, emails = consumer
    await deliver(handled, OrderDispatched, EVENTS[OrderDispatched] | {"carrier": "Royal Mail"})
    assert len(emails.rows) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"total": {"amount_minor": 2598, "currency": "pounds"}}, "total.currency"),
        ({"total": {"amount_minor": 25.5, "currency": "GBP"}}, "total.amount_minor"),
        ({"customer_id": "not a customer id"}, "customer_id"),
        ({"customer_id": None}, "customer_id"),
    ],
)
async def test_an_event_no_true_email_can_be_written_from_is_refused(
    consumer: tuple[Consumer, FakeEmails], change: dict[str, object], reason: str
) -> None:
    """What notification relies on is checked: a bad value is refused, naming the field (paved parks it with that)."""
    handled, emails = consumer
    with pytest.raises(UnacceptableMessage, match=reason):
        await deliver(handled, OrderDispatched, EVENTS[OrderDispatched] | change)
    assert emails.rows == {}


async def test_an_unknown_version_is_refused_for_the_dead_letters(consumer: tuple[Consumer, FakeEmails]) -> None:
    """Only version 1 of each event is handled; any other is refused with the versions that are."""
    handled, emails = consumer
    with pytest.raises(UnacceptableMessage, match=r"unsupported version 2 of order.OrderPlaced \(accepted: \[1\]\)"):
        await deliver(handled, OrderPlaced, EVENTS[OrderPlaced], version=2)
    assert emails.rows == {}
