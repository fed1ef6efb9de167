"""paved's messaging on NATS JetStream: streams, durable pull consumers, and a dead-letter stream.

JetStream gives what the outbox and inbox lean on: de-duplication of a re-published message id
(``Nats-Msg-Id``) within the stream's window, a delivery count per message, delayed redelivery
(``nak(delay)``), and a stream that keeps what was published for consumers declared later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import nats
import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError, NoStreamResponseError, NotFoundError

from paved.messaging._permissions import DLQ_STREAM, inbox_prefix, shown
from paved.messaging._transport import (
    DLQ_SUBJECT_PREFIX,
    BrokerUnreachable,
    DeadLetter,
    Delivery,
    Outgoing,
    Stream,
    StreamNotFound,
)

if TYPE_CHECKING:
    from paved.messaging._consumer import Consumer

log = structlog.get_logger(logger_name="paved.jetstream")

# JetStream drops a re-published message id within this window. It must outlast the longest outage
# after which the relay re-publishes (a crash between publish and delete), so it is longer than the
# server's default of two minutes.
DUPLICATE_WINDOW_SECONDS = 15 * 60.0
PUBLISH_ACK_TIMEOUT_SECONDS = 10.0


def _stream_config(stream: Stream) -> StreamConfig:
    return StreamConfig(
        name=stream.name,
        subjects=stream.subjects,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=stream.max_age_seconds,
    )


def _consumer_config(consumer: Consumer) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=consumer.name,
        ack_policy=AckPolicy.EXPLICIT,
        # One more than ours: our count decides when to park, the broker's is only a backstop.
        max_deliver=consumer.max_deliver + 1,
        ack_wait=consumer.ack_wait_seconds,
        max_ack_pending=consumer.max_ack_pending,
        filter_subjects=consumer.subject_filter(),
    )


@dataclass(frozen=True, slots=True)
class _JetStreamDelivery:
    msg: Msg

    @property
    def subject(self) -> str:
        return self.msg.subject

    @property
    def data(self) -> bytes:
        return self.msg.data

    @property
    def headers(self) -> dict[str, str]:
        return self.msg.headers or {}

    @property
    def attempts(self) -> int:
        return self.msg.metadata.num_delivered

    async def ack(self) -> None:
        await self.msg.ack()

    async def retry(self, *, delay: float) -> None:
        await self.msg.nak(delay=delay)

    async def hand_back(self) -> None:
        await self.msg.nak()


class _JetStreamSubscription:
    def __init__(self, subscription: JetStreamContext.PullSubscription) -> None:
        self._subscription = subscription

    async def fetch(self, max_messages: int, *, timeout: float) -> list[_JetStreamDelivery]:
        try:
            return [_JetStreamDelivery(msg) for msg in await self._subscription.fetch(max_messages, timeout=timeout)]
        except TimeoutError:  # nothing to fetch (nats-py raises asyncio's, or its own subclass)
            return []

    async def close(self) -> None:
        await self._subscription.unsubscribe()


class JetStreamTransport:
    """paved's ``Transport`` over a JetStream context."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def declare(self, streams: Sequence[Stream], consumers: Sequence[Consumer]) -> None:
        try:
            # Made once, by whoever comes first (on a locked broker, the platform): a service's user may
            # find the dead letters' stream, not change it.
            await self.js.stream_info(DLQ_STREAM)
        except NotFoundError:
            await self._declare_stream(
                Stream(DLQ_STREAM, subjects=[f"{DLQ_SUBJECT_PREFIX}.>"], max_age_seconds=30 * 24 * 3600.0)
            )
        for stream in streams:
            await self._declare_stream(stream)
        declared = {stream.name for stream in streams}
        for consumer in consumers:
            try:
                await self.js.add_consumer(consumer.stream, _consumer_config(consumer))
            except NotFoundError:
                if consumer.stream in declared:
                    raise
                # Another service's stream, not declared yet: the consumer is made when it subscribes.
                log.info("stream not there yet; consumer made later", consumer=consumer.name, stream=consumer.stream)

    async def _declare_stream(self, stream: Stream) -> None:
        config = _stream_config(stream)
        try:
            await self.js.add_stream(config)
        except BadRequestError:
            await self.js.update_stream(config)

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        acks = [
            await self.js.publish_async(m.subject, m.body, headers={**m.headers, "Nats-Msg-Id": m.id}) for m in messages
        ]
        async with asyncio.timeout(PUBLISH_ACK_TIMEOUT_SECONDS):
            answers = await asyncio.gather(*acks, return_exceptions=True)
        for message, answer in zip(messages, answers, strict=True):
            if isinstance(answer, NoStreamResponseError):
                # No stream takes the subject (a typo, a stream not declared, a reply to a service that
                # is gone): retrying would stall every message behind it, so it is parked with the reason.
                await self._park_unroutable(message)
            elif isinstance(answer, BaseException):
                raise answer

    async def _park_unroutable(self, message: Outgoing) -> None:
        headers = {
            "Nats-Msg-Id": f"dlq:outbox:{message.id}",
            "Paved-Dlq-Consumer": "outbox",
            "Paved-Dlq-Subject": message.subject,
            "Paved-Dlq-Reason": f"no stream takes subject {message.subject!r}: sent by an outbox, parked unsent",
            "Paved-Dlq-Attempts": "1",
            "Paved-Dlq-Original-Headers": json.dumps({**message.headers, "Nats-Msg-Id": message.id}),
        }
        await self.js.publish(f"{DLQ_SUBJECT_PREFIX}.outbox", message.body, headers=headers)

    async def subscribe(self, consumer: Consumer) -> _JetStreamSubscription:
        try:
            await self.js.add_consumer(consumer.stream, _consumer_config(consumer))
        except NotFoundError as exc:
            raise StreamNotFound(f"stream {consumer.stream} is not declared (yet)") from exc
        return _JetStreamSubscription(await self.js.pull_subscribe_bind(durable=consumer.name, stream=consumer.stream))

    async def park(self, delivery: Delivery, *, consumer: str, reason: str, attempts: int) -> None:
        assert isinstance(delivery, _JetStreamDelivery)  # it parks only what it delivered
        original = delivery.headers
        # The original's id (or place in its stream), prefixed: parking the same delivery twice (a
        # crash before the ack) keeps one letter.
        key = original.get("Nats-Msg-Id") or f"seq:{delivery.msg.metadata.sequence.stream}"
        headers = {
            "Nats-Msg-Id": f"dlq:{consumer}:{key}",
            "Paved-Dlq-Consumer": consumer,
            "Paved-Dlq-Subject": delivery.subject,
            "Paved-Dlq-Reason": reason[:2000],
            "Paved-Dlq-Attempts": str(attempts),
            "Paved-Dlq-Original-Headers": json.dumps(original),
        }
        await self.js.publish(f"{DLQ_SUBJECT_PREFIX}.{consumer}", delivery.data, headers=headers)

    async def dead_letters(self) -> list[DeadLetter]:
        try:
            info = await self.js.stream_info(DLQ_STREAM)
        except NotFoundError:
            return []
        if info.state.messages == 0:
            return []
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                found.append(await self.dead_letter(str(seq)))
            except KeyError:
                continue  # discarded or replayed
        return found

    async def dead_letter(self, letter_id: str) -> DeadLetter:
        try:
            raw = await self.js.get_msg(DLQ_STREAM, int(letter_id))
        except (NotFoundError, ValueError) as exc:
            raise KeyError(letter_id) from exc
        headers = dict(raw.headers or {})
        return DeadLetter(
            id=letter_id,
            consumer=headers.get("Paved-Dlq-Consumer", "?"),
            subject=headers.get("Paved-Dlq-Subject", "?"),
            reason=headers.get("Paved-Dlq-Reason", ""),
            attempts=int(headers.get("Paved-Dlq-Attempts", "0")),
            parked_at=raw.time or datetime.now(UTC),
            original_headers=json.loads(headers.get("Paved-Dlq-Original-Headers", "{}")),
            body=raw.data or b"",
        )

    async def replay(self, letter_id: str) -> DeadLetter:
        """Publish a parked message again to its subject, then remove it from the dead-letter stream.

        It keeps its envelope id, so consumers that already took it skip it (their inbox has it) and
        the one that failed takes it once. Its broker de-duplication id is new: the broker would
        otherwise drop it as a copy of the original.
        """
        letter = await self.dead_letter(letter_id)
        headers = dict(letter.original_headers)
        headers["Nats-Msg-Id"] = f"{headers.get('Nats-Msg-Id', 'message')}:replay:{letter_id}"
        await self.js.publish(letter.subject, letter.body, headers=headers)
        await self.js.delete_msg(DLQ_STREAM, int(letter_id))
        return letter

    async def discard(self, letter_id: str) -> DeadLetter:
        letter = await self.dead_letter(letter_id)
        await self.js.delete_msg(DLQ_STREAM, int(letter_id))
        return letter

    async def describe(self) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for info in await self.js.streams_info():
            name = info.config.name or "?"
            consumers = [
                {
                    "name": consumer.name,
                    "pending": consumer.num_pending,
                    "ack_pending": consumer.num_ack_pending,
                    "redelivered": consumer.num_redelivered,
                    "max_deliver": consumer.config.max_deliver,
                }
                for consumer in await self.js.consumers_info(name)
            ]
            found.append(
                {
                    "name": name,
                    "subjects": list(info.config.subjects or []),
                    "messages": info.state.messages,
                    "consumers": consumers,
                }
            )
        return found


class JetStreamConnection:
    """A service's connection to NATS, reconnecting for ever once made (the broker may restart)."""

    def __init__(self, url: str, *, name: str) -> None:
        self.url = url
        self.name = name
        self._client: Client | None = None
        self._transport: JetStreamTransport | None = None

    @property
    def transport(self) -> JetStreamTransport:
        if self._transport is None:
            raise RuntimeError("the broker connection is not started")
        return self._transport

    async def start(self) -> None:
        async def report(error: Exception) -> None:
            log.warning("broker connection trouble", error=f"{type(error).__name__}: {error}")

        async def disconnected() -> None:
            if self._client is not None:  # not when closing
                log.warning("broker connection lost; reconnecting", url=shown(self.url))

        async def reconnected() -> None:
            log.info("broker connection back", url=shown(self.url))

        try:
            self._client = await nats.connect(
                self.url,
                name=self.name,
                connect_timeout=2,
                # Its own inbox: on a locked broker a service subscribes to its answers only.
                inbox_prefix=inbox_prefix(self.name),
                max_reconnect_attempts=-1,
                error_cb=report,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
            )
            self._transport = JetStreamTransport(self._client.jetstream())
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            raise BrokerUnreachable(f"cannot reach NATS at {shown(self.url)}: {exc or type(exc).__name__}") from exc

    async def ping(self, *, timeout: float) -> bool:
        if self._client is None or not self._client.is_connected:
            return False
        try:
            await self._client.flush(timeout=max(1, round(timeout)))
        except (TimeoutError, nats.errors.Error):
            return False
        return True

    async def close(self) -> None:
        if self._client is None:
            return
        client, self._client, self._transport = self._client, None, None
        try:
            # Drained: what was published is flushed, subscriptions end cleanly.
            async with asyncio.timeout(5):
                await client.drain()
        except (TimeoutError, nats.errors.Error) as exc:
            log.warning("broker connection not drained cleanly", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                await client.close()


@asynccontextmanager
async def jetstream_connection(url: str, *, timeout: float = 5.0) -> AsyncIterator[JetStreamTransport]:
    """A connection that fails at once instead of reconnecting: a person is waiting for the answer."""

    async def quiet(_: Exception) -> None:  # the caller reports the failure once, in a sentence
        pass

    try:
        client = await asyncio.wait_for(
            nats.connect(url, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=1, error_cb=quiet),
            timeout=timeout,
        )
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        raise BrokerUnreachable(f"cannot reach NATS at {shown(url)}: {exc or type(exc).__name__}") from exc
    try:
        yield JetStreamTransport(client.jetstream())
    finally:
        await client.close()
