"""Emails written straight into notification's store, for tests of what reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notification.domain import Email, Money, NoticeKind, OrderNotice
from notification.ports import Emails
from notification.store import DatabaseUnitOfWork
from notification.templates import render

# In the past, so that the service's own clock finds them due.
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def message_id(n: int) -> str:
    return f"msg_{n:032x}"


async def seed(
    uow: DatabaseUnitOfWork, *recipients: str, kind: NoticeKind = NoticeKind.ORDER_DISPATCHED, order_id: str = "ord-"
) -> list[Email]:
    """One queued email per recipient given, in that order, a second apart, about orders ``order_id`` + n."""
    queued = []
    async with uow.write() as emails:
        for n, recipient in enumerate(recipients, start=1):
            notice = OrderNotice(
                kind=kind, event_id=f"evt-{n}", order_id=f"{order_id}{n}", customer_id=recipient, total=Money(n, "GBP")
            )
            queued.append(await queue(emails, notice, email_id=message_id(n), at=START + timedelta(seconds=n)))
    return queued


async def queue(emails: Emails, notice: OrderNotice, *, email_id: str, at: datetime) -> Email:
    """The email about ``notice``, queued as ``Notifications.queue_email`` does, with the id and time given."""
    rendered = render(notice)
    email = Email.queue(email_id=email_id, notice=notice, subject=rendered.subject, body=rendered.body, at=at)
    await emails.add(email)
    return email
