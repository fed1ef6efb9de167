"""Idempotent consumers: durable consumers whose effects happen once per message.

Each message is handled in a transaction of the service's database that also records its id in the
inbox (one transaction per fetched batch); a redelivered message finds its id there and has no second
effect. The broker's ack comes after the commit, so a crash in between means a redelivery, never a
loss. A handler that fails is retried with backoff up to ``max_deliver`` times; then, like a message
that cannot be parsed or is of an unknown type or version, it is parked in the dead letters with the
reason, and the consumer goes on.

A command is taken only from the services its handler names (``handles(ReserveStock, senders=...)``):
one whose envelope names another sender, or none, is parked with the reason and never handled. Events
need no such check here: the broker lets only a stream's owner publish on its subjects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from paved import _context as context
from paved._database import Database
from paved._envelope import Envelope
from paved._times import utc_now
from paved.messaging._contracts import Command, DeadlineExpired, Message, MessageTypes, Reply, UnacceptableMessage
from paved.messaging._outbox import MessageWriter, Outbox
from paved.messaging._transport import Delivery, StreamNotFound, Subscription, Transport

log = structlog.get_logger(logger_name="paved.consumer")

M = TypeVar("M", bound=Message)

_INSERT_IGNORING_DUPLICATES: dict[str, Callable[[Table], Any]] = {
    "sqlite": sqlite_insert,
    "postgresql": postgresql_insert,
}


@dataclass
class Handling:
    """What a handler gets beside its message: the transaction to act in, and a way to send messages."""

    session: AsyncSession
    envelope: Envelope
    outbox: MessageWriter

    async def send(self, message: Message, *, correlation_id: str | None = None) -> Envelope:
        """Send ``message`` (caused by the one being handled) through the outbox, in this transaction."""
        return await self.outbox.put(self.session, message, caused_by=self.envelope, correlation_id=correlation_id)

    async def reply(self, message: Reply) -> Envelope | None:
        """Answer the command being handled, on the subject its sender gave, in this transaction;
        nothing if it asked for no answer."""
        return await self.outbox.reply(self.session, self.envelope.asker, message)


Handler = Callable[[Handling, Any], Awaitable[None]]


@dataclass
class Consumer:
    """One durable consumer of one stream, with a handler per accepted message type."""

    name: str
    stream: str
    # The subjects it takes from the stream; by default those of the message types it handles.
    subjects: list[str] | None = None
    max_deliver: int = 5
    backoff_seconds: tuple[float, ...] = (0.5, 2.0, 5.0, 15.0)
    batch_size: int = 100
    ack_wait_seconds: float = 30.0
    # 1 keeps an aggregate's events in order even across retries on JetStream, at the cost of
    # throughput (on RabbitMQ a retried message is overtaken: see docs/messaging.md).
    max_ack_pending: int = 1000
    # Its bulkhead: at most this many handlers at once, each taking its own batches (a slow message
    # type on another consumer takes none of these). Above 1, messages are handled out of order.
    concurrency: int = 1
    handlers: dict[type[Message], Handler] = field(default_factory=dict)
    # The services each command type is taken from (deny by default: a command names at least one).
    senders: dict[type[Message], frozenset[str]] = field(default_factory=dict)
    # Takes every message, typed or not, in place of the handlers: for observers such as a saga view,
    # which record what passes by and must not park the types they do not know.
    observer: Callable[[Handling], Awaitable[None]] | None = None

    def handles(
        self, message_type: type[M], *, senders: Collection[str] = ()
    ) -> Callable[[Callable[[Handling, M], Awaitable[None]]], Handler]:
        """Register the handler of one message type (and version).

        A command's handler names the services that may send it (``senders``); a command from any
        other, or from an unknown sender, is parked and never handled.
        """
        if issubclass(message_type, Command) and not senders:
            raise ValueError(
                f"consumer {self.name!r} handles the command {message_type.message_type}: name the services "
                "that may send it (handles(..., senders=[...])); a command is taken from no one by default"
            )
        if senders and not issubclass(message_type, Command):
            raise ValueError(
                f"consumer {self.name!r}: {message_type.message_type} is not a command; the broker lets only "
                "its stream's owner publish an event, and only the asked service answer"
            )

        def register(handler: Callable[[Handling, M], Awaitable[None]]) -> Handler:
            if message_type in self.handlers:
                raise ValueError(
                    f"consumer {self.name!r} already handles {message_type.message_type} "
                    f"v{message_type.message_version}: a message type has one handler per consumer"
                )
            self.handlers[message_type] = handler
            if senders:
                self.senders[message_type] = frozenset(senders)
            return handler

        return register

    def subject_filter(self) -> list[str]:
        """The subjects this consumer takes: as declared, or those of the types it handles."""
        if self.subjects is not None:
            return self.subjects
        if self.observer is not None:
            raise ValueError(f"consumer {self.name!r} observes a stream: name the subjects it takes")
        subjects = {t.message_subject for t in self.handlers}
        if None in subjects or not subjects:
            raise ValueError(f"consumer {self.name!r}: name its subjects (it handles replies, or nothing yet)")
        return sorted(s for s in subjects if s is not None)


class ConsumerRunner:
    """Fetches, handles and acknowledges messages for one ``Consumer`` until told to stop."""

    def __init__(
        self,
        consumer: Consumer,
        *,
        transport: Transport,
        database: Database,
        inbox: Table,
        outbox: Outbox,
        expired: Counter | None = None,
        refused: Counter | None = None,
    ) -> None:
        self.consumer = consumer
        self.expired = expired
        self.refused = refused
        self.transport = transport
        self.database = database
        self.inbox = inbox
        self.outbox = outbox
        self.types = MessageTypes(*consumer.handlers)
        # One statement records a batch's ids, or finds them there: no savepoint, no query per message.
        insert_new = _INSERT_IGNORING_DUPLICATES[database.url.get_backend_name()]
        # Built once and run with a list of rows (SQLAlchemy's "insertmanyvalues"): compiled once, cached.
        self._record = insert_new(inbox).on_conflict_do_nothing().returning(inbox.c.message_id)
        self._stopping = asyncio.Event()

    async def run(self, stopping: asyncio.Event) -> None:
        """Handle deliveries until ``stopping`` is set; the batch in hand is finished (or handed back)."""
        self._stopping = stopping
        subscription = await self._subscribe(stopping)
        if subscription is None:
            return
        try:
            while not stopping.is_set():
                try:
                    await self._handle_batch(await subscription.fetch(self.consumer.batch_size, timeout=1.0))
                except Exception as exc:  # noqa: BLE001 - e.g. the broker away mid-fetch or mid-ack
                    # The runner must outlive any of it: what was not acked comes back after ack_wait.
                    log.warning("consumer interrupted; going on", consumer=self.consumer.name, error=repr(exc))
                    await asyncio.sleep(0.5)
        finally:
            # An open pull subscription would hold up draining the connection at shutdown.
            with contextlib.suppress(Exception):
                await subscription.close()

    async def _subscribe(self, stopping: asyncio.Event) -> Subscription | None:
        """Bind to the consumer, waiting for its stream's owner or the broker as long as need be."""
        waited = False
        while not stopping.is_set():
            try:
                return await self.transport.subscribe(self.consumer)
            except StreamNotFound:
                if not waited:
                    log.warning(
                        "waiting for the stream's owner to declare it",
                        consumer=self.consumer.name,
                        stream=self.consumer.stream,
                    )
                waited = True
            except Exception as exc:  # noqa: BLE001 - the broker is not answering yet: keep trying
                log.warning("cannot bind consumer yet; retrying", consumer=self.consumer.name, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stopping.wait()
        return None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _handle_batch(self, messages: Sequence[Delivery]) -> None:
        """Handle a fetched batch in one transaction, then ack it; one by one if any handler fails.

        One commit per batch instead of per message is what lets a consumer keep up (on SQLite a
        commit is most of a message's cost). A failing handler rolls back the batch's effects and
        inbox rows together, so handling them again one at a time has each effect once.
        """
        accepted: list[tuple[Delivery, Envelope, Message | None]] = []
        for msg in messages:
            delivery = await self._accept(msg)
            if delivery is not None:
                accepted.append((msg, *delivery))
        if self.stopping:
            # Handed back now rather than after ack_wait: another instance takes them at once.
            for msg, _, _ in accepted:
                await msg.hand_back()
            return
        if len(accepted) > 1:
            try:
                async with self.database.transaction() as session:
                    await self._apply(session, [(envelope, message) for _, envelope, message in accepted])
            except Exception:  # noqa: BLE001 - which one failed, and how often, is found one by one
                log.info("a handler failed in a batch; handling it one by one", consumer=self.consumer.name)
            else:
                for msg, _, _ in accepted:
                    await msg.ack()
                return
        for msg, envelope, message in accepted:
            if self.stopping:
                await msg.hand_back()
                continue
            await self._handle_alone(msg, envelope, message)

    async def _accept(self, msg: Delivery) -> tuple[Envelope, Message | None] | None:
        """The delivery's envelope and typed message, or None once it is parked as unreadable."""
        try:
            envelope = Envelope.from_bytes(msg.data)
        except ValidationError as exc:
            await self._park(msg, f"not a paved envelope: {exc}", msg.attempts)
            return None
        if self.consumer.observer is not None:
            return envelope, None
        try:
            message = self.types.parse(envelope)
        except UnacceptableMessage as exc:
            await self._park(msg, str(exc), msg.attempts)
            return None
        if isinstance(message, Command):
            allowed = self.consumer.senders[type(message)]
            if envelope.sender not in allowed:
                await self._refuse_sender(msg, envelope, allowed)
                return None
        return envelope, message

    async def _refuse_sender(self, msg: Delivery, envelope: Envelope, allowed: frozenset[str]) -> None:
        """A command from a service not allowed to send it (or from no one known): parked, never handled."""
        sender = repr(envelope.sender) if envelope.sender else "an unknown sender"
        if self.refused is not None:
            self.refused.labels(self.consumer.name, envelope.type).inc()
        await self._park(
            msg, f"refused: {envelope.type} from {sender}; only {', '.join(sorted(allowed))} may send it", msg.attempts
        )

    async def _apply(self, session: AsyncSession, deliveries: list[tuple[Envelope, Message | None]]) -> None:
        """The messages' effects in ``session``, except for those the inbox shows were had before."""
        new = await self._record_new(session, [envelope.id for envelope, _ in deliveries])
        for envelope, message in deliveries:
            if envelope.id not in new:  # had before, or earlier in this batch (a redelivery)
                log.info("duplicate delivery skipped", message_id=envelope.id, consumer=self.consumer.name)
                continue
            new.discard(envelope.id)
            handling = Handling(session=session, envelope=envelope, outbox=self.outbox)
            left = None if envelope.deadline is None else (envelope.deadline - utc_now()).total_seconds()
            if left is not None and left <= 0 and isinstance(message, Command):
                await self._refuse_expired(handling)
                continue
            token = context.correlation_id.set(envelope.correlation_id)
            deadline = context.deadline.set(None if left is None else time.monotonic() + left)
            try:
                if message is None:
                    assert self.consumer.observer is not None
                    await self.consumer.observer(handling)
                else:
                    await self.consumer.handlers[type(message)](handling, message)
            finally:
                context.correlation_id.reset(token)
                context.deadline.reset(deadline)

    async def _refuse_expired(self, handling: Handling) -> None:
        """A command past its deadline: not carried out; its sender is told so (if it asked for an answer)."""
        envelope = handling.envelope
        assert envelope.deadline is not None
        log.warning(
            "command not carried out: its deadline had passed",
            consumer=self.consumer.name,
            message_type=envelope.type,
            message_id=envelope.id,
            deadline=envelope.deadline.isoformat(),
            correlation_id=envelope.correlation_id,
        )
        if self.expired is not None:
            self.expired.labels(self.consumer.name).inc()
        await handling.reply(DeadlineExpired(command_type=envelope.type, deadline=envelope.deadline))

    async def _handle_alone(self, msg: Delivery, envelope: Envelope, message: Message | None) -> None:
        attempts = msg.attempts
        try:
            async with self.database.transaction() as session:
                await self._apply(session, [(envelope, message)])
        except Exception as exc:  # noqa: BLE001 - a handler's failure is data for the retry and the park
            if attempts >= self.consumer.max_deliver:
                await self._park(msg, f"failed {attempts} times, last: {type(exc).__name__}: {exc}", attempts)
                return
            delay = self.consumer.backoff_seconds[min(attempts, len(self.consumer.backoff_seconds)) - 1]
            log.warning(
                "handler failed; will retry",
                consumer=self.consumer.name,
                attempt=attempts,
                retry_in_s=delay,
                error=f"{type(exc).__name__}: {exc}",
                message_id=envelope.id,
                correlation_id=envelope.correlation_id,
            )
            await msg.retry(delay=delay)
            return
        await msg.ack()

    async def _record_new(self, session: AsyncSession, message_ids: list[str]) -> set[str]:
        """Record the ids in the inbox in one statement; returns those that were not there yet."""
        now = utc_now()
        recorded = await session.execute(
            self._record,
            [{"consumer": self.consumer.name, "message_id": id_, "processed_at": now} for id_ in message_ids],
        )
        return set(recorded.scalars())

    async def _park(self, msg: Delivery, reason: str, attempts: int) -> None:
        log.error("message parked in the dead letters", consumer=self.consumer.name, reason=reason)
        await self.transport.park(msg, consumer=self.consumer.name, reason=reason, attempts=attempts)
        await msg.ack()
