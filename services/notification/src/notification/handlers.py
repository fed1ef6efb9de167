"""The events notification consumes: order's, each turned into one queued email in the consumer's transaction.

The transaction also records the event's id in paved's inbox, so a redelivered event finds it there and
queues no second email. A type or version not registered here is parked by paved in the dead letters,
with the reason, and the consumer goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from paved.messaging import Consumer, Handling

from notification.domain import Money, NoticeKind, OrderedItem, OrderNotice
from notification.partners import Money as EventMoney
from notification.partners import OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected
from notification.ports import Emails
from notification.use_cases import Notifications

EmailsIn = Callable[[Handling], Emails]
"""The store's emails in a handled message's transaction."""


def _money(money: EventMoney) -> Money:
    return Money(money.amount_minor, money.currency)


def _notice(
    handling: Handling,
    event: OrderPlaced | OrderDispatched | OrderRejected | OrderCancelled,
    kind: NoticeKind,
    *,
    reason: str | None = None,
    items: tuple[OrderedItem, ...] = (),
) -> OrderNotice:
    return OrderNotice(
        kind=kind,
        event_id=handling.envelope.id,
        order_id=event.order_id,
        customer_id=event.customer_id,
        total=_money(event.total),
        reason=reason,
        items=items,
    )


def register(consumer: Consumer, *, notifications: Notifications, emails_in: EmailsIn) -> None:
    """Queue an email for each of order's events that ``consumer`` delivers; it takes these events' subjects."""

    async def queue(handling: Handling, notice: OrderNotice) -> None:
        await notifications.queue_email(emails_in(handling), notice)

    @consumer.handles(OrderPlaced)
    async def order_placed(handling: Handling, event: OrderPlaced) -> None:
        items = tuple(OrderedItem(line.title, line.quantity, _money(line.unit_price)) for line in event.lines)
        await queue(handling, _notice(handling, event, NoticeKind.ORDER_PLACED, items=items))

    @consumer.handles(OrderDispatched)
    async def order_dispatched(handling: Handling, event: OrderDispatched) -> None:
        await queue(handling, _notice(handling, event, NoticeKind.ORDER_DISPATCHED))

    @consumer.handles(OrderRejected)
    async def order_rejected(handling: Handling, event: OrderRejected) -> None:
        await queue(handling, _notice(handling, event, NoticeKind.ORDER_REJECTED, reason=event.reason))

    @consumer.handles(OrderCancelled)
    async def order_cancelled(handling: Handling, event: OrderCancelled) -> None:
        await queue(handling, _notice(handling, event, NoticeKind.ORDER_CANCELLED, reason=event.reason))
