"""JetStream's semantics in memory: the broker state behind ``paved.messaging._memory``.

Streams of subjects with a sequence and a de-duplication window, and durable consumers that keep their
position, count deliveries and redeliver what is not acked in time. ``paved.messaging._memory`` says what
it guarantees and what not, and puts paved's ``Transport`` over it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from paved.messaging._transport import DLQ_SUBJECT_PREFIX, Stream, StreamNotFound

if TYPE_CHECKING:
    from paved.messaging._consumer import Consumer

DLQ_STREAM = "PAVED_DLQ"  # as on JetStream
# The window paved declares its JetStream streams with.
DUPLICATE_WINDOW_SECONDS = 15 * 60.0


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether ``subject`` matches the NATS filter ``pattern``.

    ``*`` matches one token, ``>`` (last) one or more: ``orders.>`` takes ``orders.a.b``,
    not ``orders``.
    """
    tokens = subject.split(".")
    for index, token in enumerate(pattern.split(".")):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(pattern.split("."))


def _overlap(a: str, b: str) -> bool:
    """Whether a subject matches both filters (JetStream refuses overlapping streams)."""
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        if ">" in (x, y):
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(left) == len(right)


@dataclass(frozen=True, slots=True)
class _Stored:
    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]
    time: datetime


@dataclass
class _StreamState:
    config: Stream
    messages: dict[int, _Stored] = field(default_factory=dict)
    last_seq: int = 0
    # Nats-Msg-Id -> when it was stored (monotonic), oldest first.
    seen: dict[str, float] = field(default_factory=dict)


@dataclass
class ConsumerState:
    """A durable consumer: its settings, its position in the stream, what it has out."""

    stream: str
    name: str
    subjects: list[str] = field(default_factory=list)
    max_deliver: int = 0
    ack_wait: float = 30.0
    max_ack_pending: int = 1000
    next_seq: int = 1  # the first stream sequence not yet delivered once
    delivered: dict[int, int] = field(default_factory=dict)  # seq -> deliveries
    # Delivered and not acked (JetStream's ack pending): seq -> when it is due again.
    pending: dict[int, float] = field(default_factory=dict)

    def takes(self, subject: str) -> bool:
        return any(subject_matches(pattern, subject) for pattern in self.subjects)


class MemoryBroker:
    """A JetStream-like broker in this process: streams, durable consumers, dead letters.

    Get one with ``memory_broker("memory://NAME")`` (or ``memory_broker_for_test()``), and
    paved's messaging over it with ``MemoryTransport(broker)``.
    """

    def __init__(
        self,
        url: str = "memory://default",
        *,
        duplicate_window_seconds: float = DUPLICATE_WINDOW_SECONDS,
    ) -> None:
        self.url = url
        self.duplicate_window_seconds = duplicate_window_seconds
        self.streams: dict[str, _StreamState] = {}
        self.consumers: dict[tuple[str, str], ConsumerState] = {}
        self._waiters: set[asyncio.Event] = set()
        self.declare_stream(Stream(DLQ_STREAM, subjects=[f"{DLQ_SUBJECT_PREFIX}.>"]))

    def declare_stream(self, stream: Stream) -> None:
        """Create ``stream``, or update its subjects keeping its messages.

        Raises:
            ValueError: its subjects overlap another stream's, as JetStream refuses.
        """
        for other in self.streams.values():
            theirs = other.config.subjects
            clash = [s for s in stream.subjects if any(_overlap(s, o) for o in theirs)]
            if clash and other.config.name != stream.name:
                raise ValueError(f"{stream.name}: {clash} overlap {other.config.name}")
        if stream.name in self.streams:
            self.streams[stream.name].config = stream
        else:
            self.streams[stream.name] = _StreamState(stream)

    def declare_consumer(self, consumer: Consumer) -> None:
        """Create the durable ``consumer`` at its stream's start, or update it in place.

        Raises:
            StreamNotFound: its stream is not declared (yet).
        """
        if consumer.stream not in self.streams:
            raise StreamNotFound(f"{consumer.name}: no stream {consumer.stream} (yet)")
        key = (consumer.stream, consumer.name)
        state = self.consumers.setdefault(key, ConsumerState(*key))
        state.subjects = list(consumer.subject_filter())
        # One past paved's own count, as on JetStream: paved parks first, this is a backstop.
        state.max_deliver = consumer.max_deliver + 1
        state.ack_wait = consumer.ack_wait_seconds
        state.max_ack_pending = consumer.max_ack_pending

    def stream_for(self, subject: str) -> _StreamState | None:
        for stream in self.streams.values():
            if any(subject_matches(p, subject) for p in stream.config.subjects):
                return stream
        return None

    def store(self, subject: str, data: bytes, headers: dict[str, str]) -> int | None:
        """Store a message in the stream that takes ``subject``: its sequence, or None.

        None means a copy: its ``Nats-Msg-Id`` was stored within the duplicate window.

        Raises:
            StreamNotFound: no stream takes ``subject``.
        """
        stream = self.stream_for(subject)
        if stream is None:
            raise StreamNotFound(f"no stream takes subject {subject!r}")
        now, seen = time.monotonic(), stream.seen
        oldest = now - self.duplicate_window_seconds
        while seen and next(iter(seen.values())) < oldest:
            del seen[next(iter(seen))]
        msg_id = headers.get("Nats-Msg-Id")
        if msg_id is not None:
            if msg_id in seen:
                return None
            seen[msg_id] = now
        seq = stream.last_seq = stream.last_seq + 1
        stream.messages[seq] = _Stored(seq, subject, data, headers, datetime.now(UTC))
        self._wake()
        return seq

    def delete(self, stream: str, seq: int) -> None:
        self.streams[stream].messages.pop(seq, None)

    def backlog(self, *, stream: str, consumer: str) -> tuple[int, int]:
        """(waiting, delivered and not yet acked) messages of a durable consumer."""
        state = self.consumers[stream, consumer]
        stored = self.streams[stream].messages.values()
        ahead = [m for m in stored if m.seq >= state.next_seq and state.takes(m.subject)]
        return len(ahead), len(state.pending)

    def take(self, state: ConsumerState, max_messages: int) -> list[MemoryDelivery]:
        """Deliver what is due again first, then new messages up to ``max_ack_pending``."""
        now, stream = time.monotonic(), self.streams[state.stream]
        taken: list[MemoryDelivery] = []
        due = sorted(seq for seq, when in state.pending.items() if when <= now)
        for seq in due[:max_messages]:
            stored = stream.messages.get(seq)
            if stored is None or state.delivered[seq] >= state.max_deliver:
                del state.pending[seq]  # deleted, or past the backstop: not delivered
            else:
                taken.append(self._deliver(state, stored, now))
        while len(taken) < max_messages and state.next_seq <= stream.last_seq:
            if len(state.pending) >= state.max_ack_pending:
                break
            stored = stream.messages.get(state.next_seq)
            state.next_seq += 1
            if stored is not None and state.takes(stored.subject):
                taken.append(self._deliver(state, stored, now))
        return taken

    def _deliver(self, state: ConsumerState, stored: _Stored, now: float) -> MemoryDelivery:
        state.delivered[stored.seq] = state.delivered.get(stored.seq, 0) + 1
        state.pending[stored.seq] = now + state.ack_wait
        return MemoryDelivery(self, state, stored, state.delivered[stored.seq])

    def settle(self, state: ConsumerState, seq: int, *, due_in: float | None) -> None:
        """Ack (``due_in`` None), or deliver again in ``due_in`` seconds; once settled, no-op."""
        if seq in state.pending:
            if due_in is None:
                del state.pending[seq]
                state.delivered.pop(seq, None)
            else:
                state.pending[seq] = time.monotonic() + due_in
            self._wake()

    async def wait_for_change(self, *, within: float) -> None:
        """Return after a publish or a settlement, or after ``within`` seconds at most."""
        # One per wait, made here: an event belongs to the loop that waits on it.
        wake = asyncio.Event()
        self._waiters.add(wake)
        try:
            async with asyncio.timeout(within):
                await wake.wait()
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(wake)

    def _wake(self) -> None:
        for waiter in self._waiters:
            waiter.set()


@dataclass(frozen=True, slots=True)
class MemoryDelivery:
    """One delivery of a stored message to a consumer; ``attempts`` counts this one."""

    broker: MemoryBroker
    state: ConsumerState
    stored: _Stored
    attempts: int

    @property
    def subject(self) -> str:
        return self.stored.subject

    @property
    def data(self) -> bytes:
        return self.stored.data

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.stored.headers)

    async def ack(self) -> None:
        self.broker.settle(self.state, self.stored.seq, due_in=None)

    async def retry(self, *, delay: float) -> None:
        self.broker.settle(self.state, self.stored.seq, due_in=delay)

    async def hand_back(self) -> None:
        self.broker.settle(self.state, self.stored.seq, due_in=0.0)


class MemorySubscription:
    """A pull subscription to a durable consumer; instances that share one share its work."""

    def __init__(self, broker: MemoryBroker, state: ConsumerState) -> None:
        self._broker = broker
        self._state = state

    async def fetch(self, max_messages: int, *, timeout: float) -> list[MemoryDelivery]:
        deadline = time.monotonic() + timeout
        while not (taken := self._broker.take(self._state, max_messages)):
            now = time.monotonic()
            if now >= deadline:
                return []
            # Until the next unacked message falls due, if that comes first.
            due = min([deadline, *self._state.pending.values()])
            await self._broker.wait_for_change(within=max(due - now, 0.001))
        return taken

    async def close(self) -> None:
        """Nothing to release: what is unacked comes back after ``ack_wait``."""
