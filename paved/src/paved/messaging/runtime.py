"""A service's messaging at run time: its streams, outbox relay and consumers, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError

from paved.database import Database
from paved.messaging.consumer import Consumer, ConsumerRunner
from paved.messaging.deadletter import dlq_stream
from paved.messaging.outbox import Outbox
from paved.messaging.tables import MessagingTables

log = structlog.get_logger(logger_name="paved.messaging")

# JetStream drops a re-published message id within this window. It must outlast the longest outage
# after which the relay re-publishes (a crash between publish and delete), so it is longer than the
# server's default of two minutes.
DUPLICATE_WINDOW_SECONDS = 15 * 60.0


class Messaging:
    """The streams a service owns, the consumers it runs, and its outbox."""

    def __init__(self, tables: MessagingTables, *, database: Database) -> None:
        self.tables = tables
        self.database = database
        self.outbox = Outbox(tables.outbox, database=database)
        self.streams: list[StreamConfig] = []
        self.consumers: list[Consumer] = []
        self._runners: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []

    def stream(self, name: str, *, subjects: list[str], max_age_seconds: float | None = None) -> StreamConfig:
        """Declare a stream this service publishes to (created at start and by ``paved up``)."""
        config = StreamConfig(
            name=name, subjects=subjects, duplicate_window=DUPLICATE_WINDOW_SECONDS, max_age=max_age_seconds
        )
        self.streams.append(config)
        return config

    def consumer(self, name: str, *, stream: str, subjects: list[str], **options: object) -> Consumer:
        """Declare a durable consumer; register its handlers with ``@consumer.handles(Type)``."""
        consumer = Consumer(name=name, stream=stream, subjects=subjects, **options)  # type: ignore[arg-type]
        self.consumers.append(consumer)
        return consumer

    async def declare(self, js: JetStreamContext) -> None:
        """Create or update the streams and consumers the code declares (idempotent)."""
        for config in (dlq_stream(), *self.streams):
            try:
                await js.add_stream(config)
            except BadRequestError:
                await js.update_stream(config)
        for consumer in self.consumers:
            await js.add_consumer(consumer.stream, consumer.config())

    async def start(self, js: JetStreamContext) -> None:
        await self.declare(js)
        self._tasks.append(asyncio.create_task(self.outbox.relay(js), name="paved-outbox-relay"))
        for consumer in self.consumers:
            runner = ConsumerRunner(
                consumer, js=js, database=self.database, inbox=self.tables.inbox, outbox=self.outbox
            )
            self._runners.append(runner)
            self._tasks.append(asyncio.create_task(runner.run(), name=f"paved-consumer-{consumer.name}"))

    async def stop(self) -> None:
        """Let consumers finish the message in hand (unacked ones are redelivered), then stop the relay."""
        for runner in self._runners:
            runner.stopping = True
        consumers = self._tasks[1:]
        if consumers:
            await asyncio.wait(consumers, timeout=5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._runners.clear()
