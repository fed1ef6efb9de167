"""In-memory stand-ins for notification's ports, shared by the unit tests."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from notification.domain import Email, EmailNotFoundError
from notification.ports import EmailFilter, EmailPage


class FakeEmails:
    """Emails in a dict; their position in ``order`` stands for the database's sequence (the paging cursor)."""

    def __init__(self) -> None:
        self.rows: dict[str, Email] = {}
        self.order: list[str] = []

    async def add(self, email: Email) -> None:
        # As the table's unique constraints do: one email per id, and per event.
        if email.id in self.rows or any(row.event_id == email.event_id for row in self.rows.values()):
            raise ValueError(f"duplicate email {email.id} for event {email.event_id}")
        self.rows[email.id] = copy.copy(email)
        self.order.append(email.id)

    async def get(self, email_id: str, *, for_update: bool = False) -> Email:
        if email_id not in self.rows:
            raise EmailNotFoundError(email_id)
        return copy.copy(self.rows[email_id])

    async def save(self, email: Email) -> None:
        self.rows[email.id] = copy.copy(email)

    async def due(self, *, at: datetime, limit: int) -> list[Email]:
        return [copy.copy(self.rows[i]) for i in self.order if self.rows[i].is_due(at)][:limit]

    async def page(self, where: EmailFilter, *, after: int | None, limit: int) -> EmailPage:
        positions = [
            (seq, self.rows[email_id])
            for seq, email_id in enumerate(self.order, start=1)
            if (where.recipient is None or self.rows[email_id].recipient == where.recipient)
            and (where.status is None or self.rows[email_id].status is where.status)
            and (after is None or seq < after)
        ]
        newest_first = list(reversed(positions))
        page = newest_first[:limit]
        next_cursor = page[-1][0] if len(newest_first) > limit else None
        return EmailPage(emails=[copy.copy(email) for _, email in page], next_cursor=next_cursor)


class FakeUnitOfWork:
    """Transactions over one FakeEmails: a write that raises leaves it as it was, as a rollback does.

    The writes numbered in ``failing_writes`` (counting from 1) fail at commit, as if the database went away.
    """

    def __init__(self) -> None:
        self.emails = FakeEmails()
        self.writes = 0
        self.failing_writes: set[int] = set()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeEmails]:
        yield self.emails

    @asynccontextmanager
    async def write(self) -> AsyncIterator[FakeEmails]:
        self.writes += 1
        before = (copy.deepcopy(self.emails.rows), list(self.emails.order))
        try:
            yield self.emails
            if self.writes in self.failing_writes:
                raise ConnectionError("the database went away before the commit")
        except BaseException:
            self.emails.rows, self.emails.order = before
            raise


class FakeMailer:
    """Keeps what it is given; refuses the next ``failures`` emails, and waits ``delay`` seconds per email."""

    def __init__(self, *, failures: int = 0, delay: float = 0.0) -> None:
        self.sent: list[Email] = []
        self.failures = failures
        self.delay = delay
        self.calls = 0

    async def send(self, email: Email) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("the mail server refused the connection")
        self.sent.append(copy.copy(email))

    def subjects_to(self, recipient: str) -> list[str]:
        return [email.subject for email in self.sent if email.recipient == recipient]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
