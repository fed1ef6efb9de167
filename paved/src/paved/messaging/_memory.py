"""paved's messaging in memory, with JetStream's semantics: a broker for tests that need no nats-server.

Guaranteed, as on JetStream (``paved.messaging._jetstream``): streams take subjects by NATS's wildcards
(``*`` one token, ``>`` one or more) and keep what is published in order under a stream sequence; a
re-published ``Nats-Msg-Id`` is dropped within the duplicate window (15 minutes, as paved declares);
durable consumers with filter subjects keep their own positions and see the stream from its start
(``DeliverPolicy.ALL``), even when declared after the publishing; each message's deliveries are counted;
ack, nak after a delay and nak now; what is not settled within ``ack_wait`` is delivered again;
``max_ack_pending`` caps what is out unacked; past ``max_deliver`` (paved's count plus one, a backstop)
a message is no longer delivered; dead letters are a stream, parked, listed, replayed (same envelope
id, new de-duplication id) and discarded as on JetStream; a message no stream takes is parked with
the reason instead of failing the outbox.

Not guaranteed: one process and one event loop only (``memory://NAME`` names a broker within this
process; another process has another broker of that name); nothing survives the process; no cluster,
no network, so no reconnects and no timeouts of the broker's own; ``max_age_seconds`` is not enforced;
the dead-letter stream exists from the start rather than from the first ``declare``; a consumer that
reaches ``max_deliver`` sends no advisory. The broker's state is in ``paved.messaging._memory_broker``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from paved._context import new_id
from paved.messaging._memory_broker import (
    DLQ_STREAM,
    ConsumerState,
    MemoryBroker,
    MemoryDelivery,
    MemorySubscription,
    subject_matches,
)
from paved.messaging._transport import (
    DLQ_SUBJECT_PREFIX,
    DeadLetter,
    Delivery,
    Outgoing,
    Stream,
    StreamNotFound,
)

if TYPE_CHECKING:
    from paved.messaging._consumer import Consumer

__all__ = [
    "MemoryBroker",
    "MemoryConnection",
    "MemoryTransport",
    "StreamNotFound",
    "forget_memory_broker",
    "memory_broker",
    "memory_broker_for_test",
    "memory_connection",
    "subject_matches",
]


def _letter_headers(
    *,
    dedupe_id: str,
    consumer: str,
    subject: str,
    reason: str,
    attempts: int,
    original: dict[str, str],
) -> dict[str, str]:
    """A dead letter's headers, as jetstream.py writes them (``paved dlq`` reads either)."""
    return {
        "Nats-Msg-Id": dedupe_id,
        "Paved-Dlq-Consumer": consumer,
        "Paved-Dlq-Subject": subject,
        "Paved-Dlq-Reason": reason[:2000],
        "Paved-Dlq-Attempts": str(attempts),
        "Paved-Dlq-Original-Headers": json.dumps(original),
    }


class MemoryTransport:
    """paved's ``Transport`` over a ``MemoryBroker``."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    async def declare(self, streams: Sequence[Stream], consumers: Sequence[Consumer]) -> None:
        for stream in streams:
            self.broker.declare_stream(stream)
        declared = {stream.name for stream in streams}
        for consumer in consumers:
            try:
                self.broker.declare_consumer(consumer)
            except StreamNotFound:
                if consumer.stream in declared:
                    raise
                # Another service's stream, not declared yet: the consumer is made when it subscribes.

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        for m in messages:
            headers = {**m.headers, "Nats-Msg-Id": m.id}
            try:
                self.broker.store(m.subject, m.body, headers)
            except StreamNotFound:
                # Parked, as on JetStream: retrying would stall every message behind it.
                reason = f"no stream takes subject {m.subject!r}: sent by an outbox, parked unsent"
                letter = _letter_headers(
                    dedupe_id=f"dlq:outbox:{m.id}",
                    consumer="outbox",
                    subject=m.subject,
                    reason=reason,
                    attempts=1,
                    original=headers,
                )
                self.broker.store(f"{DLQ_SUBJECT_PREFIX}.outbox", m.body, letter)

    async def subscribe(self, consumer: Consumer) -> MemorySubscription:
        """Start receiving the consumer's deliveries, creating the durable consumer if it is not yet declared.

        Raises:
            StreamNotFound: the consumer's stream is not declared yet (its owner has not started).
        """
        self.broker.declare_consumer(consumer)
        state = self.broker.consumers[consumer.stream, consumer.name]
        return MemorySubscription(self.broker, state)

    async def park(self, delivery: Delivery, *, consumer: str, reason: str, attempts: int) -> None:
        assert isinstance(delivery, MemoryDelivery)  # it parks only what it delivered
        original = delivery.headers
        # Prefixed with the consumer: parking the same delivery twice keeps one letter.
        key = original.get("Nats-Msg-Id") or f"seq:{delivery.stored.seq}"
        letter = _letter_headers(
            dedupe_id=f"dlq:{consumer}:{key}",
            consumer=consumer,
            subject=delivery.subject,
            reason=reason,
            attempts=attempts,
            original=original,
        )
        self.broker.store(f"{DLQ_SUBJECT_PREFIX}.{consumer}", delivery.data, letter)

    async def dead_letters(self) -> list[DeadLetter]:
        parked = self.broker.streams[DLQ_STREAM].messages
        return [await self.dead_letter(str(seq)) for seq in sorted(parked)]

    async def dead_letter(self, letter_id: str) -> DeadLetter:
        try:
            stored = self.broker.streams[DLQ_STREAM].messages[int(letter_id)]
        except (KeyError, ValueError) as exc:
            raise KeyError(letter_id) from exc
        headers = stored.headers
        return DeadLetter(
            id=letter_id,
            consumer=headers.get("Paved-Dlq-Consumer", "?"),
            subject=headers.get("Paved-Dlq-Subject", "?"),
            reason=headers.get("Paved-Dlq-Reason", ""),
            attempts=int(headers.get("Paved-Dlq-Attempts", "0")),
            parked_at=stored.time,
            original_headers=json.loads(headers.get("Paved-Dlq-Original-Headers", "{}")),
            body=stored.data,
        )

    async def replay(self, letter_id: str) -> DeadLetter:
        """Publish a parked message again to its subject, then forget it.

        It keeps its envelope id, so consumers that took it already skip it; its de-duplication id is
        new, else the stream would drop it as a copy of the original.

        Raises:
            StreamNotFound: no stream takes its subject any more (the letter is kept).
        """
        letter = await self.dead_letter(letter_id)
        headers = dict(letter.original_headers)
        headers["Nats-Msg-Id"] = f"{headers.get('Nats-Msg-Id', 'message')}:replay:{letter_id}"
        self.broker.store(letter.subject, letter.body, headers)
        self.broker.delete(DLQ_STREAM, int(letter_id))
        return letter

    async def discard(self, letter_id: str) -> DeadLetter:
        letter = await self.dead_letter(letter_id)
        self.broker.delete(DLQ_STREAM, int(letter_id))
        return letter

    async def describe(self) -> list[dict[str, object]]:
        """Each stream with its subjects, size and consumers, in the shape jetstream.py gives."""
        return [
            {
                "name": name,
                "subjects": list(stream.config.subjects),
                "messages": len(stream.messages),
                "consumers": [self._info(c) for c in self.broker.consumers.values() if c.stream == name],
            }
            for name, stream in self.broker.streams.items()
        ]

    def _info(self, state: ConsumerState) -> dict[str, object]:
        waiting, ack_pending = self.broker.backlog(stream=state.stream, consumer=state.name)
        redelivered = [seq for seq in state.pending if state.delivered.get(seq, 0) > 1]
        return {
            "name": state.name,
            "pending": waiting,
            "ack_pending": ack_pending,
            "redelivered": len(redelivered),
            "max_deliver": state.max_deliver,
        }


_brokers: dict[str, MemoryBroker] = {}


def memory_broker(url: str) -> MemoryBroker:
    """The broker ``memory://NAME`` names in this process (made at first use); other processes have their own."""
    if not url.startswith("memory://"):
        raise ValueError(f"{url!r}: an in-memory broker's URL is memory://NAME")
    if url not in _brokers:
        _brokers[url] = MemoryBroker(url)
    return _brokers[url]


def forget_memory_broker(url: str) -> None:
    """Drop the broker ``url`` names, with all it holds: the next ``memory_broker(url)`` is a new one."""
    _brokers.pop(url, None)


@contextmanager
def memory_broker_for_test() -> Iterator[MemoryBroker]:
    """A broker of the test's own under a fresh ``memory://`` URL (its ``url``), forgotten after."""
    url = f"memory://test-{new_id()[:12]}"
    try:
        yield memory_broker(url)
    finally:
        forget_memory_broker(url)


@asynccontextmanager
async def memory_connection(url: str, *, timeout: float = 5.0) -> AsyncIterator[MemoryTransport]:
    """The transport over the broker ``url`` names, shaped like ``jetstream_connection`` for ``connected()``."""
    del timeout  # nothing to reach
    yield MemoryTransport(memory_broker(url))


class MemoryConnection:
    """A service's "connection" to the in-process broker ``memory://NAME``: always there while started."""

    def __init__(self, url: str, *, name: str) -> None:
        self.url = url
        self.name = name
        self._transport: MemoryTransport | None = None

    @property
    def transport(self) -> MemoryTransport:
        if self._transport is None:
            raise RuntimeError("the broker connection is not started")
        return self._transport

    async def start(self) -> None:
        self._transport = MemoryTransport(memory_broker(self.url))

    async def ping(self, *, timeout: float) -> bool:
        return self._transport is not None

    async def close(self) -> None:
        self._transport = None
