"""What notification's use cases need from the outside, as small Protocols: its store and its mailer.

``store.py`` implements the store over the database and ``mailers.py`` the mailer; the unit tests use
in-memory fakes (tests/unit/fakes.py).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notification.domain import Email, EmailStatus


@dataclass(frozen=True)
class EmailFilter:
    """Which emails a listing shows: all of them, or one customer's, or those of one status."""

    recipient: str | None = None
    status: EmailStatus | None = None


@dataclass(frozen=True)
class EmailPage:
    """A page of emails, newest first, and where the next page starts (None on the last one)."""

    emails: list[Email]
    next_cursor: int | None


class Emails(Protocol):
    """The emails in notification's store, within one transaction."""

    async def add(self, email: Email) -> None:
        """Store a new email."""

    async def get(self, email_id: str, *, for_update: bool = False) -> Email:
        """The email; raises ``EmailNotFoundError``. ``for_update`` holds it until the transaction ends."""
        ...

    async def save(self, email: Email) -> None:
        """Write an email's changed state (status, attempts, times, last error)."""

    async def due(self, *, at: datetime, limit: int) -> list[Email]:
        """Up to ``limit`` emails due at ``at``, oldest first, that no other transaction holds; held by this one."""
        ...

    async def page(self, where: EmailFilter, *, after: int | None, limit: int) -> EmailPage:
        """Emails matching ``where``, newest first, starting after the cursor ``after``."""
        ...


class UnitOfWork(Protocol):
    """Transactions on notification's store."""

    def read(self) -> AbstractAsyncContextManager[Emails]: ...

    def write(self) -> AbstractAsyncContextManager[Emails]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...


class Mailer(Protocol):
    """Where emails leave notification: an SMTP server or an email API in production, a log for now."""

    async def send(self, email: Email) -> None:
        """Hand ``email`` over for delivery; raises if it was not taken (it is then tried again later)."""
