"""The transactional outbox: messages are written with the state change, then relayed to the broker.

Writing a message is an INSERT in the caller's transaction, so the message exists if and only if the
state change does. The relay publishes committed rows in the order they were written, with the message
id as the broker's de-duplication id (JetStream's ``Nats-Msg-Id``), and deletes them once the broker has
acknowledged them. A crash between publish and delete re-publishes them after restart; JetStream drops
the copies, and on any broker the consumers' inboxes do.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from sqlalchemy import Table, bindparam, delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from paved.database import Database
from paved.envelope import Envelope
from paved.messaging.transport import Outgoing, Transport

log = structlog.get_logger(logger_name="paved.outbox")

_WAKES = "paved.outbox.wakes"


class Outbox:
    """Where a service writes the messages it sends, and the relay that sends them."""

    def __init__(
        self,
        table: Table,
        *,
        database: Database,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        linger_seconds: float = 0.002,
    ) -> None:
        self.table = table
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

    async def put(self, session: AsyncSession, envelope: Envelope, *, subject: str) -> None:
        """Write ``envelope`` for ``subject`` in the caller's transaction; it is sent after commit."""
        await session.execute(
            self._insert,
            {
                "id": envelope.id,
                "subject": subject,
                "headers": envelope.headers(),
                "body": envelope.to_bytes(),
                "created_at": datetime.now(UTC),
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

    async def relay(self, transport: Transport) -> None:
        """Send committed messages until cancelled; woken by commits, polling slowly when idle."""
        failures = 0
        while True:
            # Cleared before reading, so a commit during the batch wakes the next round at once.
            self._written.clear()
            try:
                sent = await self.relay_batch(transport)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the broker or database is away: wait and retry
                failures += 1
                delay = min(0.1 * 2**failures, 5.0)
                log.warning("outbox relay failed; retrying", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            if sent == self.batch_size:
                continue  # more may be waiting
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                # arrives as the event is set, and the relay then outlives its service's shutdown.
                async with asyncio.timeout(self.idle_poll_seconds):
                    await self._written.wait()
            except TimeoutError:
                continue
            await asyncio.sleep(self.linger_seconds)

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
