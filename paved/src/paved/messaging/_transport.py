"""The seam between paved's messaging and a broker: what the outbox, consumers and dead letters need of it.

paved's guarantees (outbox, inbox, retries, dead letters, replies) are written once against these
protocols; ``paved.messaging._jetstream``, ``paved.messaging._rabbitmq`` and ``paved.messaging._memory``
implement them, and ``paved.messaging._brokers`` picks one by the scheme of the service's
``broker_url``: ``nats://``, ``amqp://`` or ``memory://``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from paved.messaging._consumer import Consumer

DLQ_SUBJECT_PREFIX = "paved.dlq"


class BrokerUnreachable(Exception):
    """The broker URL does not lead to a broker that answers."""


class StreamNotFound(Exception):
    """A consumer's stream is not there (yet): its owner declares it, and the consumer waits for that."""


@dataclass(frozen=True)
class Stream:
    """Subjects a service publishes to, and how long the broker keeps what is published there."""

    name: str
    subjects: list[str]
    max_age_seconds: float | None = None


@dataclass(frozen=True)
class Outgoing:
    """A committed outbox row on its way to the broker."""

    id: str
    subject: str
    body: bytes
    headers: dict[str, str]


class Delivery(Protocol):
    """One delivery of a message to a consumer, to be settled exactly one way."""

    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def attempts(self) -> int:
        """How many times this message has been delivered to this consumer, this time included."""
        ...

    async def ack(self) -> None:
        """Done with: never delivered to this consumer again."""

    async def retry(self, *, delay: float) -> None:
        """Deliver again after ``delay`` seconds (the handler failed)."""

    async def hand_back(self) -> None:
        """Deliver again now, possibly to another instance (this one is stopping)."""


class Subscription(Protocol):
    async def fetch(self, max_messages: int, *, timeout: float) -> Sequence[Delivery]:
        """Up to ``max_messages`` deliveries; none if none came within ``timeout`` seconds."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class DeadLetter:
    """A parked message, with why it was parked and where it came from."""

    id: str
    consumer: str
    subject: str
    reason: str
    attempts: int
    parked_at: datetime
    original_headers: dict[str, str]
    body: bytes

    @property
    def message_type(self) -> str:
        return self.original_headers.get("Paved-Type", "?")


class Transport(Protocol):
    """One broker as paved's messaging uses it, and as a person inspects it through the CLI."""

    async def declare(self, streams: Sequence[Stream], consumers: Sequence[Consumer]) -> None:
        """Create or update the streams, the dead-letter store, and the consumers whose streams exist
        (idempotent); a consumer of a stream not declared yet is made when it subscribes."""

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Send ``messages`` in order; returns once the broker has taken every one."""

    async def subscribe(self, consumer: Consumer) -> Subscription:
        """Start receiving the consumer's deliveries, creating the durable consumer if it is not there.

        Raises:
            StreamNotFound: the stream the consumer reads is not declared yet.
        """
        ...

    async def park(self, delivery: Delivery, *, consumer: str, reason: str, attempts: int) -> None:
        """Copy ``delivery`` to the dead letters with the reason; the caller then acks the original."""

    async def dead_letters(self) -> list[DeadLetter]:
        """Every parked message, oldest first."""
        ...

    async def dead_letter(self, letter_id: str) -> DeadLetter:
        """One parked message; raises ``KeyError`` if there is none with that id."""
        ...

    async def replay(self, letter_id: str) -> DeadLetter:
        """Deliver a parked message again to the consumer that parked it, and forget it."""
        ...

    async def discard(self, letter_id: str) -> DeadLetter:
        """Forget a parked message."""
        ...

    async def describe(self) -> list[dict[str, object]]:
        """What the broker holds: streams or queues, with their subjects, sizes and consumers."""
        ...


class Connection(Protocol):
    """A service's one connection to its broker, kept for its life; it reconnects on its own once started."""

    @property
    def transport(self) -> Transport:
        """paved's messaging over this connection (once started)."""
        ...

    async def start(self) -> None:
        """Connect; raises ``BrokerUnreachable`` if the broker does not answer."""

    async def ping(self, *, timeout: float) -> bool:
        """Whether the broker answers now, within ``timeout`` seconds."""
        ...

    async def close(self) -> None:
        """Let what was sent reach the broker, then disconnect."""
