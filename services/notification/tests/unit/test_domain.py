from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notification.domain import (
    Email,
    EmailStatus,
    InvalidMoneyError,
    Money,
    NoticeKind,
    OrderNotice,
    RetryPolicy,
)

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=3,
    first_delay=timedelta(seconds=10),
    max_delay=timedelta(seconds=25),
    claim_for=timedelta(seconds=60),
    send_timeout=timedelta(seconds=5),
)


def notice(kind: NoticeKind = NoticeKind.ORDER_DISPATCHED) -> OrderNotice:
    return OrderNotice(kind=kind, event_id="evt-1", order_id="ord-1", customer_id="acc_ann", total=Money(2598, "GBP"))


def queued() -> Email:
    return Email.queue(email_id="msg_1", notice=notice(), subject="Your order", body="Hello", at=AT)


def test_a_queued_email_is_addressed_to_the_customer_and_due_at_once() -> None:
    """Queueing addresses the email to the notice's customer, remembers its event, and makes it due now."""
    email = queued()
    assert (email.recipient, email.event_id, email.order_id, email.kind) == (
        "acc_ann",
        "evt-1",
        "ord-1",
        NoticeKind.ORDER_DISPATCHED,
    )
    assert email.status is EmailStatus.QUEUED and email.attempts == 0
    assert email.is_due(AT) and not email.is_due(AT - timedelta(seconds=1))


def test_a_claim_holds_the_email_for_its_attempt() -> None:
    """A claimed email counts the attempt and is not due again until the claim runs out."""
    email = queued()
    assert email.claim(at=AT, policy=POLICY)
    assert email.attempts == 1
    assert not email.is_due(AT + timedelta(seconds=59))
    assert not email.claim(at=AT + timedelta(seconds=59), policy=POLICY)
    assert email.is_due(AT + timedelta(seconds=60))


def test_a_sent_email_is_never_due_again() -> None:
    """Once the mailer took it, the email is sent, stays sent, and is never claimed again."""
    email = queued()
    email.claim(at=AT, policy=POLICY)
    email.mark_sent(at=AT + timedelta(seconds=1))
    email.mark_sent(at=AT + timedelta(seconds=9))  # a second sender's copy: the first time stands
    assert email.status is EmailStatus.SENT and email.sent_at == AT + timedelta(seconds=1)
    assert not email.claim(at=AT + timedelta(days=1), policy=POLICY)


def test_failed_attempts_back_off_then_give_up() -> None:
    """Each failure waits twice as long as the last (capped), and the last allowed failure fails the email."""
    email = queued()
    waits = []
    at = AT
    for _ in range(POLICY.max_attempts):
        assert email.claim(at=at, policy=POLICY)
        email.record_failure("ConnectionRefusedError: no", at=at, policy=POLICY)
        waits.append(email.next_attempt_at - at)
        at = email.next_attempt_at
    assert waits[:2] == [timedelta(seconds=10), timedelta(seconds=20)]
    assert email.status is EmailStatus.FAILED
    assert email.last_error == "ConnectionRefusedError: no"
    assert not email.is_due(AT + timedelta(days=1))


def test_an_email_whose_attempts_never_finished_is_given_up() -> None:
    """Claims that ran out each time (its senders stopped mid-send) end in failed, not in sending for ever."""
    email = queued()
    at = AT
    for _ in range(POLICY.max_attempts):
        assert email.claim(at=at, policy=POLICY)
        at += POLICY.claim_for
    assert not email.claim(at=at, policy=POLICY)
    assert email.status is EmailStatus.FAILED
    assert "no outcome recorded after 3 attempts" in (email.last_error or "")


def test_a_failure_reported_after_another_sender_sent_it_changes_nothing() -> None:
    """An attempt that failed late does not undo a copy that was sent meanwhile."""
    email = queued()
    email.claim(at=AT, policy=POLICY)
    email.mark_sent(at=AT)
    email.record_failure("TimeoutError", at=AT, policy=POLICY)
    assert email.status is EmailStatus.SENT and email.last_error is None


def test_a_long_error_is_cut_to_what_the_store_keeps() -> None:
    """The reason for a failure is kept, cut to 500 characters."""
    email = queued()
    email.claim(at=AT, policy=POLICY)
    email.record_failure("x" * 2000, at=AT, policy=POLICY)
    assert email.last_error == "x" * 500


def test_the_backoff_is_capped() -> None:
    """However many attempts failed, the wait never exceeds max_delay."""
    assert POLICY.delay_after(1) == timedelta(seconds=10)
    assert POLICY.delay_after(50) == timedelta(seconds=25)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"max_attempts": 0}, "at least one attempt"), ({"claim_for": timedelta(seconds=5)}, "longer than send_timeout")],
)
def test_a_policy_that_would_lose_or_double_emails_is_refused(changes: dict[str, Any], message: str) -> None:
    """No attempts at all, or a claim that runs out before a send can, are refused at once."""
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**{"send_timeout": timedelta(seconds=5), **changes})


def test_naive_times_are_refused() -> None:
    """A time without a zone is a bug in the caller, refused before it is stored."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Email.queue(email_id="msg_1", notice=notice(), subject="s", body="b", at=datetime(2026, 11, 27, 9, 0))


def test_a_currency_must_be_an_iso_code() -> None:
    """Money refuses a currency that is not three capital letters."""
    with pytest.raises(InvalidMoneyError, match="ISO 4217"):
        Money(100, "pounds")
