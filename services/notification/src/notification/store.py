"""notification's store: the repository that maps its tables onto domain emails, and its unit of work.

The only code that knows the tables (``tables.py``); nobody else reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from paved import Database
from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from notification.domain import Email, EmailNotFoundError, EmailStatus, NoticeKind
from notification.ports import EmailFilter, EmailPage
from notification.tables import emails


def _to_email(row: RowMapping) -> Email:
    return Email(
        id=row["id"],
        recipient=row["recipient"],
        kind=NoticeKind(row["kind"]),
        subject=row["subject"],
        body=row["body"],
        event_id=row["event_id"],
        order_id=row["order_id"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        status=EmailStatus(row["status"]),
        attempts=row["attempts"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


# Built once: building a statement per call cost about a quarter of the service's CPU under load
# (bench/README.md, issue 5). What varies is bound at execution.
_INSERT_EMAIL = insert(emails)
_EMAIL = select(emails).where(emails.c.id == bindparam("email_id"))
_EMAIL_FOR_UPDATE = _EMAIL.with_for_update()  # SQLite has no row locks: its transactions take turns anyway
_SAVE_STATE = (
    update(emails)
    .where(emails.c.id == bindparam("email_id"))
    .values(
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        next_attempt_at=bindparam("next_attempt_at"),
        sent_at=bindparam("sent_at"),
        last_error=bindparam("last_error"),
    )
)
_DUE = (
    select(emails)
    .where(emails.c.status == EmailStatus.QUEUED.value, emails.c.next_attempt_at <= bindparam("at"))
    .order_by(emails.c.seq)
    .limit(bindparam("limit", type_=Integer))
    # Two senders (two replicas) on PostgreSQL take different emails instead of queueing on the same.
    .with_for_update(skip_locked=True)
)


def _state(email: Email) -> dict[str, Any]:
    """The columns that change over an email's life (the parameters of ``_SAVE_STATE``'s SET)."""
    return {
        "status": email.status.value,
        "attempts": email.attempts,
        "next_attempt_at": email.next_attempt_at,
        "sent_at": email.sent_at,
        "last_error": email.last_error,
    }


class SqlEmails:
    """Emails in notification's database, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, email: Email) -> None:
        row = {
            "id": email.id,
            "recipient": email.recipient,
            "kind": email.kind.value,
            "subject": email.subject,
            "body": email.body,
            "event_id": email.event_id,
            "order_id": email.order_id,
            "created_at": email.created_at,
        }
        await self.session.execute(_INSERT_EMAIL, {**row, **_state(email)})

    async def get(self, email_id: str, *, for_update: bool = False) -> Email:
        query = _EMAIL_FOR_UPDATE if for_update else _EMAIL
        row = (await self.session.execute(query, {"email_id": email_id})).mappings().first()
        if row is None:
            raise EmailNotFoundError(email_id)
        return _to_email(row)

    async def save(self, email: Email) -> None:
        await self.session.execute(_SAVE_STATE, {"email_id": email.id, **_state(email)})

    async def due(self, *, at: datetime, limit: int) -> list[Email]:
        rows = (await self.session.execute(_DUE, {"at": at, "limit": limit})).mappings()
        return [_to_email(row) for row in rows]

    async def page(self, where: EmailFilter, *, after: int | None, limit: int) -> EmailPage:
        # One more than asked tells whether there is a next page without counting.
        query = select(emails).order_by(emails.c.seq.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(emails.c.seq < after)
        if where.recipient is not None:
            query = query.where(emails.c.recipient == where.recipient)
        if where.status is not None:
            query = query.where(emails.c.status == where.status.value)
        rows = (await self.session.execute(query)).mappings().all()
        page = rows[:limit]
        next_cursor = int(page[-1]["seq"]) if len(rows) > limit else None
        return EmailPage(emails=[_to_email(row) for row in page], next_cursor=next_cursor)


class DatabaseUnitOfWork:
    """Transactions on notification's database, each with its emails."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlEmails]:
        async with self.database.read() as session:
            yield SqlEmails(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlEmails]:
        async with self.database.transaction() as session:
            yield SqlEmails(session)
