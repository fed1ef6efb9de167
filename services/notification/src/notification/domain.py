"""The emails notification sends customers about their orders: its rules, with no I/O and no framework.

An email is queued when something happens to a customer's order, then sent at least once: each attempt
first *claims* it (for a while, so that no other sender takes it meanwhile), then records the outcome. A
sender that stops between sending and recording leaves the claim to run out, and the email is sent again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

CURRENCY = re.compile(r"[A-Z]{3}")
# The longest reason for a failed attempt kept with the email: enough to tell what happened.
MAX_ERROR_LENGTH = 500


class NotificationError(Exception):
    """A rule of notification was broken."""


class EmailNotFoundError(NotificationError):
    def __init__(self, email_id: str) -> None:
        super().__init__(f"no message has the id {email_id!r}")


class InvalidMoneyError(NotificationError):
    """An amount that is not integer minor units of an ISO 4217 currency."""


def _require_aware(at: datetime) -> None:
    # A naive time in a message is a bug in the caller: whose clock would it be?
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"times are timezone-aware (UTC), not naive: {at.isoformat()}")


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not CURRENCY.fullmatch(self.currency):
            raise InvalidMoneyError(f"currency {self.currency!r} is not an ISO 4217 code such as 'GBP'")


class NoticeKind(StrEnum):
    """What happened to an order that its customer is told about."""

    ORDER_PLACED = "order_placed"
    ORDER_DISPATCHED = "order_dispatched"
    ORDER_REJECTED = "order_rejected"
    ORDER_CANCELLED = "order_cancelled"


@dataclass(frozen=True)
class OrderedItem:
    """One line of a placed order, as the confirmation lists it."""

    title: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True)
class OrderNotice:
    """Something that happened to a customer's order, to tell them about: one per event, one email each.

    Attributes:
        event_id: the id of the event it comes from (an email per event, never two).
        reason: why an order was rejected (a reason code) or cancelled (a sentence); None otherwise.
        items: what was ordered, on a placed order's notice.
    """

    kind: NoticeKind
    event_id: str
    order_id: str
    customer_id: str
    total: Money
    reason: str | None = None
    items: tuple[OrderedItem, ...] = ()


class EmailStatus(StrEnum):
    QUEUED = "queued"  # waiting for (another) attempt
    SENT = "sent"  # the mailer took it
    FAILED = "failed"  # every attempt failed: a person must look


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long an email is tried.

    Attributes:
        max_attempts: attempts before an email is given up as failed.
        first_delay: the wait after the first failed attempt; it doubles after each one, up to ``max_delay``.
        claim_for: how long an attempt holds an email; after that another sender may take it. It must
            outlast an attempt (``send_timeout``), or a slow send would be duplicated while it runs.
        send_timeout: the deadline of one attempt at the mailer.
    """

    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    claim_for: timedelta = timedelta(minutes=2)
    send_timeout: timedelta = timedelta(seconds=10)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("an email needs at least one attempt")
        if self.claim_for <= self.send_timeout:
            raise ValueError("claim_for must be longer than send_timeout, or a slow send is taken twice")

    def delay_after(self, attempts: int) -> timedelta:
        """How long to wait before the next attempt, after ``attempts`` failed ones."""
        # In float seconds, with the exponent bounded: a timedelta doubled fifty times overflows.
        doubled = self.first_delay.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 64)
        if doubled >= self.max_delay.total_seconds():
            return self.max_delay
        return timedelta(seconds=doubled)


@dataclass
class Email:
    """One email to a customer, from its queueing to its sending (or giving up)."""

    id: str
    recipient: str
    kind: NoticeKind
    subject: str
    body: str
    event_id: str
    order_id: str
    created_at: datetime
    next_attempt_at: datetime
    status: EmailStatus = EmailStatus.QUEUED
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = field(default=None, repr=False)

    @classmethod
    def queue(cls, *, email_id: str, notice: OrderNotice, subject: str, body: str, at: datetime) -> Email:
        """A new email about ``notice`` to its customer, due at once."""
        _require_aware(at)
        return cls(
            id=email_id,
            recipient=notice.customer_id,
            kind=notice.kind,
            subject=subject,
            body=body,
            event_id=notice.event_id,
            order_id=notice.order_id,
            created_at=at,
            next_attempt_at=at,
        )

    def is_due(self, at: datetime) -> bool:
        """Whether a sender may take the email now."""
        return self.status is EmailStatus.QUEUED and self.next_attempt_at <= at

    def claim(self, *, at: datetime, policy: RetryPolicy) -> bool:
        """Take the email for one attempt, held until ``at + policy.claim_for``; False if it may not be tried.

        An email whose every attempt was claimed and none recorded (its senders stopped mid-send each
        time) is given up here, as failed: nothing else would stop it being sent for ever.
        """
        _require_aware(at)
        if not self.is_due(at):
            return False
        if self.attempts >= policy.max_attempts:
            self._give_up(f"no outcome recorded after {self.attempts} attempts")
            return False
        self.attempts += 1
        self.next_attempt_at = at + policy.claim_for
        return True

    def mark_sent(self, *, at: datetime) -> None:
        """The mailer took the email: it is sent, whatever an earlier attempt recorded."""
        _require_aware(at)
        if self.status is EmailStatus.SENT:
            return  # a second sender's copy of an email already marked: once is what counts
        self.status = EmailStatus.SENT
        self.sent_at = at

    def record_failure(self, error: str, *, at: datetime, policy: RetryPolicy) -> None:
        """An attempt failed: try again later, or give up once every attempt has been had."""
        _require_aware(at)
        if self.status is not EmailStatus.QUEUED:
            return  # another sender settled it meanwhile; its outcome stands
        self.last_error = error[:MAX_ERROR_LENGTH]
        if self.attempts >= policy.max_attempts:
            self._give_up(self.last_error)
            return
        self.next_attempt_at = at + policy.delay_after(self.attempts)

    def _give_up(self, reason: str) -> None:
        self.status = EmailStatus.FAILED
        self.last_error = reason[:MAX_ERROR_LENGTH]
