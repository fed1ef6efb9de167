from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from paved import poller
from paved.testing import Background

from notification.domain import EmailStatus, Money, NoticeKind, OrderNotice, RetryPolicy
from notification.use_cases import Notifications

from .fakes import FakeClock, FakeMailer, FakeUnitOfWork

POLICY = RetryPolicy(
    max_attempts=3,
    first_delay=timedelta(seconds=10),
    claim_for=timedelta(seconds=60),
    send_timeout=timedelta(seconds=0.2),
)


def notice(n: int, customer: str = "acc_ann") -> OrderNotice:
    return OrderNotice(
        kind=NoticeKind.ORDER_DISPATCHED,
        event_id=f"evt-{n}",
        order_id=f"ord-{n}",
        customer_id=customer,
        total=Money(1000 + n, "GBP"),
    )


async def queue(uow: FakeUnitOfWork, clock: FakeClock, *numbers: int) -> list[str]:
    """Queue email number n for each n, with the id msg_n, as the handlers do in an event's transaction."""
    ids = iter(f"msg_{n}" for n in numbers)
    queuing = sender(uow, clock, FakeMailer(), new_id=lambda: next(ids))
    async with uow.write() as emails:
        return [(await queuing.queue_email(emails, notice(n))).id for n in numbers]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def sender(
    uow: FakeUnitOfWork,
    clock: FakeClock,
    mailer: FakeMailer,
    *,
    batch_size: int = 20,
    new_id: Callable[[], str] = lambda: "msg_unused",
) -> Notifications:
    return Notifications(uow=uow, mailer=mailer, policy=POLICY, clock=clock, new_id=new_id, batch_size=batch_size)


@asynccontextmanager
async def sending_in_background(
    notifications: Notifications, *, every: float, grace: float = 5.0
) -> AsyncIterator[None]:
    """The sender as the service runs it: paved's poller over ``send_round``, stopped when the block ends."""
    background = Background()
    background.add("notification-sender", poller(notifications.send_round, every=every), grace=grace)
    background.start()
    try:
        yield
    finally:
        await background.stop()


async def test_queued_emails_are_sent_once_and_marked_sent(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """A round hands every due email to the mailer once and records it as sent; the next round sends nothing."""
    await queue(uow, clock, 1, 2)
    mailer = FakeMailer()
    done = await sender(uow, clock, mailer).send_due()
    assert (done.claimed, done.sent) == (2, 2)
    assert [e.id for e in mailer.sent] == ["msg_1", "msg_2"]
    for email in uow.emails.rows.values():
        assert email.status is EmailStatus.SENT and email.sent_at == clock()
    clock.advance(timedelta(days=1))
    assert (await sender(uow, clock, mailer).send_due()).claimed == 0
    assert len(mailer.sent) == 2


async def test_a_round_takes_at_most_a_batch(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """A round claims no more than batch_size emails, oldest first; the rest wait for the next round."""
    await queue(uow, clock, 1, 2, 3)
    mailer = FakeMailer()
    assert (await sender(uow, clock, mailer, batch_size=2).send_due()).sent == 2
    assert [e.id for e in mailer.sent] == ["msg_1", "msg_2"]
    assert uow.emails.rows["msg_3"].status is EmailStatus.QUEUED


async def test_a_refused_email_is_tried_again_after_the_backoff(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """A mailer failure is recorded with its reason; the email waits out the backoff, then is sent."""
    [email_id] = await queue(uow, clock, 1)
    mailer = FakeMailer(failures=1)
    assert (await sender(uow, clock, mailer).send_due()).sent == 0
    email = uow.emails.rows[email_id]
    assert email.status is EmailStatus.QUEUED
    assert email.last_error == "ConnectionRefusedError: the mail server refused the connection"
    clock.advance(timedelta(seconds=9))
    assert (await sender(uow, clock, mailer).send_due()).claimed == 0
    clock.advance(timedelta(seconds=1))
    assert (await sender(uow, clock, mailer).send_due()).sent == 1
    assert uow.emails.rows[email_id].status is EmailStatus.SENT


async def test_an_email_the_mailer_never_takes_ends_failed(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """After max_attempts refusals the email is failed, for a person to look at, and tried no more."""
    [email_id] = await queue(uow, clock, 1)
    mailer = FakeMailer(failures=100)
    for _ in range(10):
        await sender(uow, clock, mailer).send_due()
        clock.advance(timedelta(hours=1))
    assert mailer.calls == POLICY.max_attempts
    assert uow.emails.rows[email_id].status is EmailStatus.FAILED


async def test_a_mailer_that_hangs_is_cut_off_at_the_send_timeout(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """An attempt that outlasts send_timeout counts as failed instead of holding the sender."""
    [email_id] = await queue(uow, clock, 1)
    done = await sender(uow, clock, FakeMailer(delay=5.0)).send_due()
    assert done.sent == 0
    assert (uow.emails.rows[email_id].last_error or "").startswith("TimeoutError")


async def test_a_crash_between_sending_and_marking_sends_again(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """At least once: if 'sent' is not recorded after the mailer took an email, it is sent again when its claim ends."""
    [email_id] = await queue(uow, clock, 1)
    mailer = FakeMailer()
    uow.failing_writes = {uow.writes + 2}  # the round's claim commits; the write that marks it sent does not
    with pytest.raises(ConnectionError):
        await sender(uow, clock, mailer).send_due()
    assert len(mailer.sent) == 1 and uow.emails.rows[email_id].status is EmailStatus.QUEUED

    clock.advance(POLICY.claim_for - timedelta(seconds=1))
    assert (await sender(uow, clock, mailer).send_due()).claimed == 0  # still claimed
    clock.advance(timedelta(seconds=1))
    assert (await sender(uow, clock, mailer).send_due()).sent == 1
    assert [e.id for e in mailer.sent] == [email_id, email_id]
    assert uow.emails.rows[email_id].status is EmailStatus.SENT


async def test_a_claimed_email_is_not_taken_by_a_second_sender(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """While one sender is at the mailer with an email, another sender's round finds nothing to take."""
    await queue(uow, clock, 1)
    slow = FakeMailer(delay=0.1)
    other = FakeMailer()
    first_round = asyncio.create_task(sender(uow, clock, slow).send_due())
    await asyncio.sleep(0.02)  # the first sender has claimed it and is waiting on its mailer
    assert (await sender(uow, clock, other).send_due()).claimed == 0
    assert (await first_round).sent == 1
    assert other.sent == [] and len(slow.sent) == 1


async def test_a_full_round_is_followed_by_another_at_once(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """A round that claimed a whole batch asks for the next round at once (more may be due); else it waits."""
    await queue(uow, clock, 1, 2, 3)
    notifications = sender(uow, clock, FakeMailer(), batch_size=2)
    assert await notifications.send_round() == 0
    assert await notifications.send_round() is None


async def test_the_sender_sends_in_the_background_and_stops_with_the_service(
    uow: FakeUnitOfWork, clock: FakeClock
) -> None:
    """While running, the sender sends what is queued, even after a failed round; once stopped, nothing more."""
    await queue(uow, clock, 1)
    mailer = FakeMailer()
    uow.failing_writes = {uow.writes + 1}  # the first round's claim fails, as if the database were away
    async with sending_in_background(sender(uow, clock, mailer), every=0.01):
        for _ in range(200):
            if mailer.sent:
                break
            await asyncio.sleep(0.01)
    assert [e.id for e in mailer.sent] == ["msg_1"]
    await queue(uow, clock, 2)
    await asyncio.sleep(0.05)
    assert [e.id for e in mailer.sent] == ["msg_1"]  # stopped: nothing more is sent
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "notification-sender"]


async def test_a_sender_stopped_mid_send_leaves_the_email_for_later(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """A round that outlasts the stop's grace is cancelled; its email stays queued, sent once its claim runs out."""
    [email_id] = await queue(uow, clock, 1)
    slow = FakeMailer(delay=0.15)
    async with sending_in_background(sender(uow, clock, slow), every=0.01, grace=0.02):
        await asyncio.sleep(0.05)  # the round has claimed the email and waits on the mailer
    email = uow.emails.rows[email_id]
    assert slow.sent == [] and email.status is EmailStatus.QUEUED and email.attempts == 1
    clock.advance(POLICY.claim_for)
    assert (await sender(uow, clock, FakeMailer()).send_due()).sent == 1
