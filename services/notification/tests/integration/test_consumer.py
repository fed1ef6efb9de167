from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from paved import Service
from paved.testing import BrokerProbe, eventually

from notification.app import CONSUMER, create_service
from notification.domain import Email, EmailStatus, NoticeKind
from notification.ports import EmailFilter
from notification.settings import NotificationSettings
from notification.store import DatabaseUnitOfWork

from ..unit.fakes import FakeMailer
from .order_contract import (
    ORDER_EVENTS,
    Money,
    OrderCancelled,
    OrderDispatched,
    OrderPlaced,
    OrderPlacedV2,
    OrderRefunded,
    OrderRejected,
    PlacedLine,
)

NOW = datetime.now(UTC)
TOTAL = Money(amount_minor=2598, currency="GBP")


def placed(order_id: str = "ord-1", customer_id: str = "acc_ann") -> OrderPlaced:
    line = PlacedLine(
        sku="ALB-00001", title="Kind of Blue", quantity=2, unit_price=Money(amount_minor=1299, currency="GBP")
    )
    return OrderPlaced(order_id=order_id, customer_id=customer_id, lines=[line], total=TOTAL, placed_at=NOW)


def dispatched(order_id: str = "ord-1", customer_id: str = "acc_ann") -> OrderDispatched:
    return OrderDispatched(order_id=order_id, customer_id=customer_id, total=TOTAL, dispatched_at=NOW)


async def emails(uow: DatabaseUnitOfWork) -> list[Email]:
    """Every email in notification's database, oldest first."""
    async with uow.read() as stored:
        return list(reversed((await stored.page(EmailFilter(), after=None, limit=100)).emails))


async def test_each_of_orders_events_becomes_one_email_to_its_customer(
    service: Service, uow: DatabaseUnitOfWork, probe: BrokerProbe
) -> None:
    """Order's four events, published as order's relay publishes them, are each queued as an email to its customer."""
    sent = [
        await probe.publish(placed("ord-1")),
        await probe.publish(dispatched("ord-1")),
        await probe.publish(
            OrderRejected(
                order_id="ord-2", customer_id="acc_bob", total=TOTAL, reason="out_of_stock", detail="x", rejected_at=NOW
            )
        ),
        await probe.publish(
            OrderCancelled(
                order_id="ord-3",
                customer_id="acc_ann",
                total=TOTAL,
                reason="cancelled by the customer",
                cancelled_at=NOW,
            )
        ),
    ]
    queued = await eventually(lambda: _at_least(uow, 4))
    assert [(e.kind, e.order_id, e.recipient) for e in queued] == [
        (NoticeKind.ORDER_PLACED, "ord-1", "acc_ann"),
        (NoticeKind.ORDER_DISPATCHED, "ord-1", "acc_ann"),
        (NoticeKind.ORDER_REJECTED, "ord-2", "acc_bob"),
        (NoticeKind.ORDER_CANCELLED, "ord-3", "acc_ann"),
    ]
    assert [e.event_id for e in queued] == [envelope.id for envelope in sent]
    assert all(e.status is EmailStatus.QUEUED for e in queued)
    assert "because some of the albums you ordered are out of stock" in queued[2].body


async def _at_least(uow: DatabaseUnitOfWork, count: int) -> list[Email]:
    found = await emails(uow)
    return found if len(found) >= count else []


async def test_a_redelivered_event_mails_nothing_twice(
    service: Service, uow: DatabaseUnitOfWork, probe: BrokerProbe
) -> None:
    """The same event delivered again (past JetStream's de-duplication) finds its id in the inbox: still one email."""
    envelope = await probe.publish(placed())
    await eventually(lambda: _at_least(uow, 1))
    await probe.publish(envelope, subject=OrderPlaced.message_subject, dedup_id=f"{envelope.id}:again")
    await probe.publish(envelope, subject=OrderPlaced.message_subject, dedup_id=f"{envelope.id}:and-again")
    assert await eventually(lambda: probe.all_handled(stream=ORDER_EVENTS.name, consumer=CONSUMER))
    [email] = await emails(uow)
    assert email.event_id == envelope.id
    assert await probe.dead_letters() == []  # skipped by the inbox, not refused by the table's unique key


async def test_an_unknown_version_is_parked_and_the_consumer_goes_on(
    service: Service, uow: DatabaseUnitOfWork, probe: BrokerProbe
) -> None:
    """OrderPlaced v2 goes to paved's dead letters with the reason; the next event is mailed as usual."""
    future = await probe.publish(OrderPlacedV2(order_id="ord-9", customer_id="acc_ann", total_pence=100))
    await probe.publish(dispatched("ord-1"))
    [email] = await eventually(lambda: _at_least(uow, 1))
    assert email.kind is NoticeKind.ORDER_DISPATCHED
    [letter] = await eventually(lambda: probe.dead_letters())
    assert letter.consumer == CONSUMER and letter.original_headers["Paved-Id"] == future.id
    assert letter.reason == "unsupported version 2 of order.OrderPlaced (accepted: [1])"


async def test_an_event_no_true_email_can_be_written_from_is_parked(
    service: Service, uow: DatabaseUnitOfWork, probe: BrokerProbe
) -> None:
    """An event whose total is not money (a currency that is no ISO code) is parked naming the field, never mailed."""
    bad = dispatched().model_copy(update={"total": Money(amount_minor=100, currency="pounds")})
    await probe.publish(bad)
    [letter] = await eventually(lambda: probe.dead_letters())
    assert "order.OrderDispatched v1 data is not valid" in letter.reason and "total.currency" in letter.reason
    assert await emails(uow) == []


async def test_orders_other_events_are_not_notifications_business(
    service: Service, uow: DatabaseUnitOfWork, probe: BrokerProbe
) -> None:
    """An event order adds on a subject of its own is not delivered to notification, so it is not parked either."""
    await probe.publish(OrderRefunded(order_id="ord-1"))
    await probe.publish(dispatched())
    await eventually(lambda: _at_least(uow, 1))
    assert await eventually(lambda: probe.all_handled(stream=ORDER_EVENTS.name, consumer=CONSUMER))
    assert await probe.dead_letters() == []
    assert len(await emails(uow)) == 1


async def test_the_running_service_sends_what_it_queued(
    settings: NotificationSettings, mailer: FakeMailer, probe: BrokerProbe
) -> None:
    """Under the app's own lifespan (what uvicorn runs), an event becomes an email the mailer takes, marked sent."""
    running = create_service(settings, mailer=mailer)
    async with running.app.router.lifespan_context(running.app):
        envelope = await probe.publish(placed(customer_id="acc_cy"))
        await eventually(lambda: _mailed(mailer))
        [email] = await eventually(lambda: _sent(DatabaseUnitOfWork(running.database)))
    assert mailer.subjects_to("acc_cy") == ["We have your order ord-1"]
    assert email.event_id == envelope.id and email.attempts == 1 and email.sent_at is not None
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "notification-sender"]


async def _mailed(mailer: FakeMailer) -> bool:
    return bool(mailer.sent)


async def _sent(uow: DatabaseUnitOfWork) -> list[Email]:
    return [e for e in await emails(uow) if e.status is EmailStatus.SENT]
