"""A service's messaging at run time: its streams, outbox relay and consumers, started and stopped together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from paved.database import Database
from paved.messaging.consumer import Consumer, ConsumerRunner
from paved.messaging.outbox import Outbox
from paved.messaging.requests import Requests
from paved.messaging.tables import MessagingTables
from paved.messaging.transport import Stream, Transport

log = structlog.get_logger(logger_name="paved.messaging")


class Messaging:
    """The streams a service owns, the consumers it runs, and its outbox."""

    def __init__(self, tables: MessagingTables, *, database: Database) -> None:
        self.tables = tables
        self.database = database
        self.outbox = Outbox(tables.outbox, database=database)
        self.streams: list[Stream] = []
        self.consumers: list[Consumer] = []
        self.requests: Requests | None = None
        self._runners: list[ConsumerRunner] = []
        self._consumer_tasks: list[asyncio.Task[None]] = []
        self._background: list[asyncio.Task[None]] = []
        self._loops: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}

    def stream(self, name: str, *, subjects: list[str], max_age_seconds: float | None = None) -> Stream:
        """Declare a stream this service publishes to (created or updated when the service starts)."""
        stream = Stream(name, subjects=subjects, max_age_seconds=max_age_seconds)
        self.streams.append(stream)
        return stream

    def consumer(self, name: str, *, stream: str, subjects: list[str], **options: object) -> Consumer:
        """Declare a durable consumer; register its handlers with ``@consumer.handles(Type)``."""
        consumer = Consumer(name=name, stream=stream, subjects=subjects, **options)  # type: ignore[arg-type]
        self.consumers.append(consumer)
        return consumer

    def send_commands(self, *, service: str) -> Requests:
        """Let this service send commands and continue from their replies (on ``SERVICE.replies``)."""
        subject = f"{service}.replies"
        stream = f"{service.upper().replace('-', '_')}_REPLIES"
        self.stream(stream, subjects=[subject])
        replies = self.consumer(f"{service}-replies", stream=stream, subjects=[subject])
        self.requests = Requests(
            tables=self.tables, database=self.database, outbox=self.outbox, replies=replies, reply_subject=subject
        )
        return self.requests

    def keep_running(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``loop()`` beside the consumers while the service runs (e.g. a saga's wake-ups)."""
        self._loops[name] = loop

    async def declare(self, transport: Transport) -> None:
        """Create or update the streams and consumers the code declares (idempotent)."""
        await transport.declare(self.streams, self.consumers)

    @staticmethod
    def _report_if_failed(task: asyncio.Task[None]) -> None:
        # A background task must not die unnoticed: that would stop a consumer or the relay silently.
        if not task.cancelled() and task.exception() is not None:
            log.error("messaging task failed", task=task.get_name(), error=repr(task.exception()))

    async def start(self, transport: Transport) -> None:
        await self.declare(transport)
        self._background.append(asyncio.create_task(self.outbox.relay(transport), name="paved-outbox-relay"))
        if self.requests is not None:
            watch = self.requests.watch_deadlines()
            self._background.append(asyncio.create_task(watch, name="paved-request-deadlines"))
        for name, loop in self._loops.items():
            self._background.append(asyncio.create_task(loop(), name=name))
        for consumer in self.consumers:
            runner = ConsumerRunner(
                consumer, transport=transport, database=self.database, inbox=self.tables.inbox, outbox=self.outbox
            )
            self._runners.append(runner)
            self._consumer_tasks.append(asyncio.create_task(runner.run(), name=f"paved-consumer-{consumer.name}"))
        for task in (*self._background, *self._consumer_tasks):
            task.add_done_callback(self._report_if_failed)

    async def stop(self) -> None:
        """Let consumers finish the message in hand (unacked ones are redelivered), then stop the rest."""
        for runner in self._runners:
            runner.stopping = True
        if self._consumer_tasks:
            await asyncio.wait(self._consumer_tasks, timeout=5)
        tasks = [*self._consumer_tasks, *self._background]
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: a task that swallows its cancellation must not keep the service from stopping.
            _, still_running = await asyncio.wait(tasks, timeout=5)
            for task in still_running:
                log.error("messaging task did not stop when cancelled", task=task.get_name())
        self._consumer_tasks.clear()
        self._background.clear()
        self._runners.clear()
