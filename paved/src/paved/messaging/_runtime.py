"""A service's messaging: the streams it owns, those it follows, its consumers, outbox and requests.

A stream has one owner, the service that publishes to it: only the owner declares (creates, updates)
it. A service that consumes another's stream follows it: its consumers bind to the stream as its owner
declared it, and one whose stream is not there yet is made as soon as it is (JetStream consumers read
a stream from its first message, so nothing published meanwhile is missed).

The same declarations say what the service may do on a locked broker (``access()``): publish its own
events, the commands it declares it sends and the replies to those allowed to send it commands; read
what it consumes. ``paved up`` makes the service's broker user from them (``python -m paved permissions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter

from paved._background import Background, poller
from paved._database import Database
from paved._metrics import ServiceMetrics
from paved.messaging._consumer import Consumer, ConsumerRunner
from paved.messaging._contracts import Command
from paved.messaging._outbox import Outbox
from paved.messaging._permissions import BrokerAccess
from paved.messaging._requests import Requests
from paved.messaging._tables import MessagingTables
from paved.messaging._transport import Stream, Transport

log = structlog.get_logger(logger_name="paved.messaging")


@dataclass(frozen=True)
class Followed:
    """A stream another service owns, which this one consumes."""

    name: str


class Messaging:
    """The streams a service owns and follows, the consumers it runs, its outbox and its requests."""

    def __init__(
        self, tables: MessagingTables, *, database: Database, service: str, metrics: ServiceMetrics | None = None
    ) -> None:
        self.tables = tables
        self.metrics = metrics
        self.database = database
        self.service = service
        # Deny by default: a command is put in the outbox only once declared (``sends``).
        self.outbox = Outbox(tables.outbox, database=database, sender=service, sends=frozenset())
        self.sent: list[type[Command]] = []
        self.streams: list[Stream] = []
        self.followed: list[Followed] = []
        self.consumers: list[Consumer] = []
        self.requests: Requests | None = None
        self._refused = (
            Counter(
                "messages_refused",
                "Commands parked unhandled because their sender may not send them (or is unknown).",
                ["consumer", "message_type"],
                registry=metrics.registry,
            )
            if metrics is not None
            else None
        )

    def own(self, stream: Stream) -> Stream:
        """Declare a stream this service publishes to (created or updated when it is prepared).

        Its subjects must be under the service's name (``warehouse.events.>`` for ``warehouse``): a service
        publishes under its own name, so a stream of another's subjects is another's to declare.
        """
        if any(known.name == stream.name for known in self.streams):
            raise ValueError(f"{self.service} already owns stream {stream.name}")
        foreign = [subject for subject in stream.subjects if not subject.startswith(f"{self.service}.")]
        if foreign:
            raise ValueError(
                f"{self.service} cannot own stream {stream.name}: its subjects {foreign} are not under "
                f"'{self.service}.'; follow another service's stream instead (messaging.follow)"
            )
        self.streams.append(stream)
        return stream

    def follow(self, stream: str) -> Followed:
        """Consume a stream another service owns, as its owner declared it; this service never configures it."""
        followed = Followed(stream)
        if followed not in self.followed:
            self.followed.append(followed)
        return followed

    def consumer(
        self, name: str, *, stream: Stream | Followed, subjects: list[str] | None = None, **options: Any
    ) -> Consumer:
        """Declare a durable consumer of an owned or followed stream; its handlers register with
        ``@consumer.handles(Type)``, and it takes the subjects of those types unless ``subjects`` says."""
        if stream not in self.streams and stream not in self.followed:
            raise ValueError(f"consumer {name}: stream {stream.name} is neither owned nor followed by {self.service}")
        if any(known.name == name for known in self.consumers):
            raise ValueError(f"{self.service} already has a consumer named {name!r}")
        consumer = Consumer(name=name, stream=stream.name, subjects=subjects, **options)
        self.consumers.append(consumer)
        return consumer

    def sends(self, *commands: type[Command]) -> None:
        """Declare the commands this service sends: its outbox refuses any other, and on a locked broker its
        user may publish these (and no other commands)."""
        for command in commands:
            if command not in self.sent:
                self.sent.append(command)
        self.outbox.sends = frozenset(command.message_type for command in self.sent)

    def send_commands(self) -> Requests:
        """Let this service send commands and continue from their replies (on ``SERVICE.replies``)."""
        if self.requests is not None:
            return self.requests
        subject = reply_subject(self.service)
        stream = self.own(Stream(f"{self.service.upper().replace('-', '_')}_REPLIES", subjects=[subject]))
        replies = self.consumer(f"{self.service}-replies", stream=stream, subjects=[subject])
        self.requests = Requests(
            tables=self.tables, database=self.database, outbox=self.outbox, replies=replies, reply_subject=subject
        )
        return self.requests

    async def declare(self, transport: Transport) -> None:
        """Create or update the streams this service owns, and its consumers whose streams exist (idempotent)."""
        await transport.declare(self.streams, self.consumers)

    def run_on(self, background: Background, transport: Transport) -> None:
        """Add the relay, the request deadlines and every consumer to the service's background tasks."""
        background.add("paved-outbox-relay", self.outbox.relay(transport), grace=5.0, last=True)
        if self.requests is not None:
            deadlines = poller(self.requests.time_out_due_step, every=0.2)
            background.add("paved-request-deadlines", deadlines, grace=5.0)
        expired = self.metrics.messages_expired if self.metrics is not None else None
        refused = self._refused
        for consumer in self.consumers:
            # The consumer's bulkhead: ``concurrency`` handlers at most, each with a subscription of its own.
            for worker in range(consumer.concurrency):
                runner = ConsumerRunner(
                    consumer,
                    transport=transport,
                    database=self.database,
                    inbox=self.tables.inbox,
                    outbox=self.outbox,
                    expired=expired,
                    refused=refused,
                )
                suffix = f"-{worker + 1}" if consumer.concurrency > 1 else ""
                background.add(f"paved-consumer-{consumer.name}{suffix}", runner.run, grace=5.0)

    def access(self) -> BrokerAccess:
        """What this service's declarations let it do on the broker (after ``create_service`` has wired it)."""
        # A stream it owns and takes commands or replies from is one others write to: it reads there, never writes.
        inbound = {c.stream for c in self.consumers if any(issubclass(t, Command) for t in c.handlers)}
        if self.requests is not None:
            inbound.add(self.requests.replies.stream)
        senders = sorted({s for c in self.consumers for allowed in c.senders.values() for s in allowed})
        events = [subject for stream in self.streams if stream.name not in inbound for subject in stream.subjects]
        commands = sorted({command.message_subject for command in self.sent if command.message_subject})
        return BrokerAccess(
            service=self.service,
            streams=[stream.name for stream in self.streams],
            publishes=sorted({*events, *commands, *(reply_subject(sender) for sender in senders)}),
            consumers=[(consumer.stream, consumer.name) for consumer in self.consumers],
            bindings={consumer.name: consumer.subject_filter() for consumer in self.consumers},
        )


def reply_subject(service: str) -> str:
    """Where the replies to ``service``'s commands go (``Messaging.send_commands``)."""
    return f"{service}.replies"
