"""The transactional outbox: messages are written with the state change, then relayed to the broker.

Writing a message is an INSERT in the caller's transaction, so the message exists if and only if the
state change does. The relay publishes committed rows in the order they were written, with the message
id as the broker's de-duplication id (JetStream's ``Nats-Msg-Id``), and deletes them once the broker has
acknowledged them. A crash between publish and delete re-publishes them after restart; JetStream drops
the copies, and on any broker the consumers' inboxes do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

import structlog
from sqlalchemy import Table, bindparam, delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from paved._background import Run, poller
from paved._database import Database
from paved._envelope import Asker, Cause, Envelope
from paved._times import utc_now
from paved.messaging._contracts import Command, Event, Message, Reply
from paved.messaging._transport import Outgoing, Transport

log = structlog.get_logger(logger_name="paved.outbox")

_WAKES = "paved.outbox.wakes"


class MessageWriter:
    """What writes messages in a transaction: the ``Outbox``, or ``paved.testing.RecordingOutbox``.

    How a message is addressed (its subject, its envelope and sender, a reply's subject) is decided here
    once; a writer says only where one addressed message goes (``_write``).
    """

    # The service whose messages these are: every envelope written here names it as its sender.
    sender: str | None = None
    # The command types (``Message.message_type``) it declared it sends; None: not checked.
    sends: frozenset[str] | None = None

    async def put(
        self,
        session: AsyncSession,
        message: Message,
        *,
        caused_by: Cause | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        deadline: datetime | None = None,
    ) -> Envelope:
        """Write ``message`` on its subject in the caller's transaction; it is sent after commit.

        Args:
            caused_by: the message being handled (or an ``Asker`` kept since), whose ids it carries on.
            correlation_id: the business process it belongs to, when not the cause's (an order's id).
            reply_to: where the answer to this command goes (``Requests`` sets it).
            deadline: when a command is no longer worth carrying out (``Requests`` sets it).
        """
        if message.message_subject is None:
            raise ValueError(f"{message.message_type} has no subject of its own: a reply goes with reply()")
        if isinstance(message, Command) and self.sends is not None and message.message_type not in self.sends:
            # Refused here, in the sender's transaction, rather than by the broker later (its user may
            # publish only the commands declared), which would hold up every message behind it.
            raise UndeclaredCommandError(
                f"{self.sender} sends {message.message_type}, which it does not declare: "
                f"service.messaging.sends({type(message).__name__}, ...)"
            )
        envelope = message.envelope(
            caused_by=caused_by,
            correlation_id=correlation_id,
            reply_to=reply_to,
            deadline=deadline,
            sender=self.sender,
        )
        await self._write(session, envelope, subject=message.message_subject, message=message)
        return envelope

    async def reply(self, session: AsyncSession, asker: Asker, reply: Reply) -> Envelope | None:
        """Answer ``asker``'s command on the subject it gave, in the caller's transaction; None, and
        nothing written, if it asked for no answer (a command may be sent without waiting for one)."""
        if asker.reply_to is None:
            return None
        envelope = reply.envelope(caused_by=asker, sender=self.sender)
        await self._write(session, envelope, subject=asker.reply_to, message=reply)
        return envelope

    async def put_envelope(self, session: AsyncSession, envelope: Envelope, *, subject: str) -> None:
        """Write an envelope made already (a message sent on again as it was) for ``subject``."""
        await self._write(session, envelope, subject=subject, message=None)

    async def _write(self, session: AsyncSession, envelope: Envelope, *, subject: str, message: Message | None) -> None:
        raise NotImplementedError


class UndeclaredCommandError(ValueError):
    """A service put a command in its outbox that it did not declare it sends (``Messaging.sends``)."""


class Outbox(MessageWriter):
    """Where a service writes the messages it sends, and the relay that sends them."""

    def __init__(
        self,
        table: Table,
        *,
        database: Database,
        sender: str | None = None,
        sends: frozenset[str] | None = None,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        linger_seconds: float = 0.002,
    ) -> None:
        self.table = table
        self.sender = sender
        self.sends = sends
        # Built once: a statement built per message costs more Python than SQLite spends on it.
        self._insert = insert(table)
        self._oldest = (
            select(table.c.seq, table.c.id, table.c.subject, table.c.headers, table.c.body)
            .order_by(table.c.seq)
            .limit(batch_size)
        )
        self._delete_sent = delete(table).where(table.c.seq.in_(bindparam("seqs", expanding=True)))
        self.database = database
        self.batch_size = batch_size
        # Rows are found without a wake-up too (written before a crash, or by another instance),
        # by one cheap query per idle period rather than a tight loop.
        self.idle_poll_seconds = idle_poll_seconds
        # Woken by a commit, the relay waits this long before reading, so that the commits of a busy
        # moment leave in one batch (one publish round, one delete) instead of one each.
        self.linger_seconds = linger_seconds
        self._written = asyncio.Event()

    async def _write(self, session: AsyncSession, envelope: Envelope, *, subject: str, message: Message | None) -> None:
        # An INSERT in the caller's transaction; the commit wakes the relay.
        await session.execute(
            self._insert,
            {
                "id": envelope.id,
                "subject": subject,
                "headers": envelope.headers(),
                "body": envelope.to_bytes(),
                "created_at": utc_now(),
            },
        )
        if _WAKES not in session.info:
            session.info[_WAKES] = True
            event.listen(session.sync_session, "after_commit", self._on_commit, once=True)

    def _on_commit(self, session: Session) -> None:
        session.info.pop(_WAKES, None)
        self._written.set()

    async def pending(self) -> int:
        """How many messages wait to be sent."""
        async with self.database.read() as session:
            return int((await session.execute(select(func.count()).select_from(self.table))).scalar_one())

    def relay(self, transport: Transport) -> Run:
        """The background task that sends committed messages: woken by commits, polling slowly when idle,
        and sending what is left once more when told to stop (the service stops it after its other tasks).

        The poller retries a failed round (the broker or database away) with backoff.
        """

        async def send_batch() -> float | None:
            sent = await self.relay_batch(transport)
            return 0 if sent == self.batch_size else None  # a full batch: more may be waiting

        poll = poller(send_batch, every=self.idle_poll_seconds, wake=self._written, linger=self.linger_seconds)

        async def run(stopping: asyncio.Event) -> None:
            await poll(stopping)
            try:
                while await self.relay_batch(transport) == self.batch_size:
                    pass
            except Exception as exc:  # noqa: BLE001 - what is not sent now is sent after the next start
                log.warning("outbox not emptied at stop; sent after restart", error=f"{type(exc).__name__}: {exc}")

        return run

    async def relay_batch(self, transport: Transport) -> int:
        """Publish the oldest unsent messages, await the broker's acks, delete them; returns how many.

        No lock is held while the broker answers: writers go on meanwhile. Two relays (two instances)
        may publish the same rows; JetStream keeps the first copy of each id, and since each relay
        publishes in write order, so does the stream (on RabbitMQ the inboxes drop the copies).
        """
        async with self.database.read() as session:
            rows = (await session.execute(self._oldest)).all()
        if not rows:
            return 0
        await transport.publish([Outgoing(row.id, row.subject, row.body, row.headers) for row in rows])
        async with self.database.transaction() as session:
            await session.execute(self._delete_sent, {"seqs": [row.seq for row in rows]})
        return len(rows)


F = TypeVar("F")


class Announcer(Generic[F]):
    """Tells a service's domain facts as its contract events, through the outbox, in one transaction.

    The domain announces what happened (``await announce(fact)``); ``event_of`` maps a fact to the
    event of the service's contract, and ``correlation_of`` names the business process it belongs to
    (an order's id), when that is not the cause's.
    """

    def __init__(
        self,
        session: AsyncSession,
        outbox: MessageWriter,
        *,
        event_of: Callable[[F], Event],
        correlation_of: Callable[[F], str | None] = lambda _: None,
        caused_by: Cause | None = None,
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.event_of = event_of
        self.correlation_of = correlation_of
        self.caused_by = caused_by

    async def __call__(self, fact: F) -> None:
        await self.outbox.put(
            self.session, self.event_of(fact), caused_by=self.caused_by, correlation_id=self.correlation_of(fact)
        )


Announce = Callable[[F], Awaitable[None]]
"""The port a domain service announces its facts through (an ``Announcer``, or a fake in tests)."""
