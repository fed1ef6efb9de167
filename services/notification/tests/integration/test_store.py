from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from paved import Service
from sqlalchemy.exc import IntegrityError

from notification.domain import Email, EmailStatus, Money, NoticeKind, OrderNotice, RetryPolicy
from notification.ports import EmailFilter
from notification.store import DatabaseUnitOfWork

from .seed import START, queue, seed

POLICY = RetryPolicy()


async def test_an_email_reads_back_as_it_was_written(uow: DatabaseUnitOfWork) -> None:
    """Every field survives the database, times as timezone-aware UTC on SQLite too."""
    [written] = await seed(uow, "acc_ann")
    async with uow.write() as emails:
        email = await emails.get(written.id, for_update=True)
        email.claim(at=START + timedelta(minutes=1), policy=POLICY)
        email.record_failure("refused", at=START + timedelta(minutes=1), policy=POLICY)
        await emails.save(email)
    async with uow.read() as emails:
        assert await emails.get(written.id) == email
    assert email.next_attempt_at.utcoffset() == timedelta(0)


async def test_a_second_email_for_the_same_event_is_refused(uow: DatabaseUnitOfWork) -> None:
    """The table keeps one email per event, behind the inbox: a duplicate that got past it fails loudly."""
    await seed(uow, "acc_ann")
    notice = OrderNotice(
        kind=NoticeKind.ORDER_DISPATCHED,
        event_id="evt-1",
        order_id="ord-1",
        customer_id="acc_ann",
        total=Money(1, "GBP"),
    )
    with pytest.raises(IntegrityError):
        async with uow.write() as emails:
            await queue(emails, notice, email_id="msg_other", at=START)


async def test_paging_visits_each_of_a_customers_emails_once_newest_first(uow: DatabaseUnitOfWork) -> None:
    """Following next_cursor lists a recipient's emails newest first, with no gaps, repeats or others' emails."""
    written = await seed(uow, *["acc_ann", "acc_bob", "acc_ann"] * 4)
    seen: list[Email] = []
    cursor = None
    while True:
        async with uow.read() as emails:
            page = await emails.page(EmailFilter(recipient="acc_ann"), after=cursor, limit=3)
        seen += page.emails
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.id for e in seen] == [e.id for e in reversed(written) if e.recipient == "acc_ann"]


async def test_only_due_queued_emails_are_taken(uow: DatabaseUnitOfWork) -> None:
    """due() returns queued emails whose time has come, oldest first, and neither sent nor later ones."""
    first, second, third = await seed(uow, "acc_ann", "acc_bob", "acc_cy")
    async with uow.write() as emails:
        sent = await emails.get(second.id)
        sent.mark_sent(at=START)
        await emails.save(sent)
        assert [e.id for e in await emails.due(at=first.created_at, limit=10)] == [first.id]
        assert [e.id for e in await emails.due(at=START + timedelta(hours=1), limit=10)] == [first.id, third.id]
    async with uow.read() as emails:
        assert [
            e.id for e in (await emails.page(EmailFilter(status=EmailStatus.SENT), after=None, limit=10)).emails
        ] == [second.id]


async def test_two_senders_at_once_take_different_emails(service: Service, uow: DatabaseUnitOfWork) -> None:
    """Two claiming transactions at once (two replicas) never take the same email.

    PostgreSQL: the second skips the row the first holds; SQLite: the second waits its turn, then finds the
    first's email claimed.
    """
    await seed(uow, "acc_ann", "acc_bob")
    at = START + timedelta(hours=1)
    first_holds = asyncio.Event()

    async def claim(*, hold: bool) -> list[str]:
        async with uow.write() as emails:
            taken = await emails.due(at=at, limit=1)
            for email in taken:
                email.claim(at=at, policy=POLICY)
                await emails.save(email)
            if hold:
                first_holds.set()
                await asyncio.sleep(0.3)  # the other claims meanwhile, or waits (SQLite)
            return [email.id for email in taken]

    async def second() -> list[str]:
        await first_holds.wait()
        return await claim(hold=False)

    one, two = await asyncio.gather(claim(hold=True), second())
    assert len(one) == len(two) == 1 and one != two
