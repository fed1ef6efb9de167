"""paved's messaging on RabbitMQ, over one robust aio-pika connection (it reconnects, and its channels
re-declare their queues and restart their consumers).

How JetStream's parts map here (docs/messaging.md says what differs for a service):

- one durable topic exchange, ``paved``, carries every subject (NATS's ``>`` becomes AMQP's ``#``);
  a stream is only a name here: RabbitMQ keeps messages in queues, not in the exchange;
- a durable consumer is a quorum queue bound to its subjects; the broker counts deliveries
  (``x-delivery-count``) and dead-letters a message past ``x-delivery-limit``, a backstop to paved's
  own count, into paved's dead letters;
- a delayed retry is a copy put in a wait queue with that delay as its TTL, which dead-letters it
  back into the consumer's queue; the copy carries how often it failed (``Paved-Retries``). Both hops go
  through the ``paved`` exchange (``paved.wait.<consumer>.<ms>ms``, ``paved.redeliver.<consumer>``), never
  the default exchange, which would let any user with write on it put a message in any queue;
- publishes wait for publisher confirms; there is no broker-side de-duplication, so a re-published
  outbox row (a crash between publish and delete) is delivered twice and the inbox drops the copy;
- dead letters are a quorum queue, ``paved.dlq``, read by browsing it (a message is taken unacked
  and returned when the browsing channel closes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aio_pika
import structlog
from aio_pika import DeliveryMode, ExchangeType, Message
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.abc import DeliveredMessage
from aiormq.exceptions import ChannelNotFoundEntity
from pamqp.commands import Basic

from paved._context import new_id
from paved.messaging._permissions import shown
from paved.messaging._transport import (
    DLQ_SUBJECT_PREFIX,
    BrokerUnreachable,
    DeadLetter,
    Delivery,
    Outgoing,
    Stream,
)

if TYPE_CHECKING:
    from paved.messaging._consumer import Consumer

log = structlog.get_logger(logger_name="paved.rabbitmq")

EXCHANGE = "paved"
DLQ_QUEUE = "paved.dlq"
WAIT_PREFIX = "paved.wait"
REDELIVER_PREFIX = "paved.redeliver"
CONFIRM_TIMEOUT_SECONDS = 10.0
_SUBJECT = "Paved-Subject"
_RETRIES = "Paved-Retries"


def routing_pattern(subject: str) -> str:
    """A NATS subject filter as an AMQP topic binding: ``orders.>`` becomes ``orders.#``."""
    return ".".join("#" if token == ">" else token for token in subject.split("."))


def wait_queue(consumer: str, delay: float) -> str:
    """Where a retry of ``consumer``'s waits out ``delay`` (named apart from paved 0.2's ``.retry.`` queues,
    which dead-letter through the default exchange)."""
    return f"{consumer}.wait.{round(delay * 1000)}ms"


def wait_key(consumer: str, delay: float) -> str:
    """The routing key that puts a retry into its wait queue."""
    return f"{WAIT_PREFIX}.{consumer}.{round(delay * 1000)}ms"


def redelivery_key(consumer: str) -> str:
    """The routing key a waited-out retry comes back to the consumer's queue by."""
    return f"{REDELIVER_PREFIX}.{consumer}"


def _persistent(body: bytes, *, message_id: str, headers: dict[str, str]) -> Message:
    return Message(
        body,
        headers=headers,  # type: ignore[arg-type]
        message_id=message_id,
        timestamp=datetime.now(UTC),
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
    )


class _RabbitDelivery:
    __slots__ = ("_consumer", "_message", "_transport")

    def __init__(self, message: AbstractIncomingMessage, transport: RabbitTransport, consumer: Consumer) -> None:
        self._message = message
        self._transport = transport
        self._consumer = consumer

    @property
    def subject(self) -> str:
        return str(self._message.headers.get(_SUBJECT) or self._message.routing_key)

    @property
    def data(self) -> bytes:
        return self._message.body

    @property
    def headers(self) -> dict[str, str]:
        # The broker's own (x-death, x-delivery-count) are not part of the message.
        return {k: str(v) for k, v in self._message.headers.items() if not k.startswith("x-")}

    @property
    def attempts(self) -> int:
        retries = int(str(self._message.headers.get(_RETRIES, 0)))
        return retries + int(str(self._message.headers.get("x-delivery-count", 0))) + 1

    async def ack(self) -> None:
        await self._message.ack()

    async def retry(self, *, delay: float) -> None:
        # A copy waits out the delay in a retry queue; acking the original before the copy is
        # confirmed could lose it, so the copy goes first (a crash in between delivers it twice).
        delays = sorted(self._consumer.backoff_seconds)
        wait = next((d for d in delays if d >= delay), delays[-1])
        headers = {**self.headers, _SUBJECT: self.subject, _RETRIES: str(self.attempts)}
        message = _persistent(self.data, message_id=self._message.message_id or "", headers=headers)
        await self._transport.send_through_exchange(message, wait_key(self._consumer.name, wait))
        await self._message.ack()

    async def hand_back(self) -> None:
        await self._message.nack(requeue=True)


class _RabbitSubscription:
    """Deliveries pushed by the broker (at most the queue's prefetch unacked), fetched in batches."""

    def __init__(self, queue: AbstractQueue, transport: RabbitTransport, consumer: Consumer) -> None:
        self._queue = queue
        self._transport = transport
        self._consumer = consumer
        self._received: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._tag: str | None = None

    async def start(self) -> None:
        async def receive(message: AbstractIncomingMessage) -> None:
            self._received.put_nowait(message)

        self._tag = await self._queue.consume(receive)

    async def fetch(self, max_messages: int, *, timeout: float) -> list[_RabbitDelivery]:
        try:
            async with asyncio.timeout(timeout):
                batch = [await self._received.get()]
        except TimeoutError:
            return []
        while len(batch) < max_messages and not self._received.empty():
            batch.append(self._received.get_nowait())
        return [_RabbitDelivery(message, self._transport, self._consumer) for message in batch]

    async def close(self) -> None:
        if self._tag is not None:
            await self._queue.cancel(self._tag)
        while not self._received.empty():
            await self._received.get_nowait().nack(requeue=True)


class RabbitTransport:
    """paved's ``Transport`` over a robust aio-pika connection."""

    def __init__(self, connection: AbstractRobustConnection) -> None:
        self.connection = connection
        self._exchange: AbstractExchange | None = None
        self._channels: dict[str, AbstractChannel] = {}

    async def _channel(self, purpose: str = "default") -> AbstractChannel:
        # One channel per purpose, kept: publishing and declaring share one; reading dead letters has
        # its own (browsing holds them unacked meanwhile); each subscription has its own prefetch.
        channel = self._channels.get(purpose)
        if channel is None or channel.is_closed:
            channel = self._channels[purpose] = await self.connection.channel(publisher_confirms=True)
        return channel

    async def _paved_exchange(self) -> AbstractExchange:
        if self._exchange is None:
            channel = await self._channel()
            if await self._exists(lambda finding: finding.declare_exchange(EXCHANGE, ExchangeType.TOPIC, passive=True)):
                self._exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, passive=True)
            else:
                self._exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.TOPIC, durable=True)
        return self._exchange

    async def _exists(self, find: Callable[[AbstractChannel], Awaitable[object]]) -> bool:
        """Whether ``find`` (a passive declare) finds its exchange or queue. On a locked broker the platform
        makes the exchange and the dead letters' queue, and a service's user may only find them: a passive
        declare needs no permission, a declare needs "configure", which would also let it delete them."""
        try:
            await find(await self._channel("finding"))
        except ChannelNotFoundEntity:  # it closed that channel: the next find opens another
            return False
        return True

    async def _consumer_queue(self, channel: AbstractChannel, consumer: Consumer) -> AbstractQueue:
        return await channel.declare_queue(
            consumer.name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",  # replicated, and it counts deliveries
                "x-delivery-limit": consumer.max_deliver + 1,  # a backstop, as on JetStream
                "x-dead-letter-exchange": EXCHANGE,
                "x-dead-letter-routing-key": f"{DLQ_SUBJECT_PREFIX}.{consumer.name}",
            },
        )

    async def declare(self, streams: Sequence[Stream], consumers: Sequence[Consumer]) -> None:
        exchange = await self._paved_exchange()
        channel = await self._channel()

        if not await self._exists(lambda finding: finding.declare_queue(DLQ_QUEUE, passive=True)):
            dlq = await channel.declare_queue(DLQ_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
            await dlq.bind(exchange, routing_key=f"{DLQ_SUBJECT_PREFIX}.#")
        for consumer in consumers:
            queue = await self._consumer_queue(channel, consumer)
            for subject in consumer.subject_filter():
                await queue.bind(exchange, routing_key=routing_pattern(subject))
            await queue.bind(exchange, routing_key=redelivery_key(consumer.name))
            for delay in set(consumer.backoff_seconds):
                waiting = await channel.declare_queue(
                    wait_queue(consumer.name, delay),
                    durable=True,
                    arguments={
                        "x-message-ttl": round(delay * 1000),
                        "x-dead-letter-exchange": EXCHANGE,
                        "x-dead-letter-routing-key": redelivery_key(consumer.name),
                    },
                )
                await waiting.bind(exchange, routing_key=wait_key(consumer.name, delay))

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        exchange = await self._paved_exchange()
        confirms = [
            exchange.publish(
                _persistent(m.body, message_id=m.id, headers={**m.headers, _SUBJECT: m.subject}),
                routing_key=m.subject,
                mandatory=True,  # so that a message no queue takes is reported, not silently dropped
            )
            for m in messages
        ]
        async with asyncio.timeout(CONFIRM_TIMEOUT_SECONDS):
            answers = await asyncio.gather(*confirms)
        unrouted = [
            m.subject for m, answer in zip(messages, answers, strict=True) if isinstance(answer, DeliveredMessage)
        ]
        if unrouted:
            # Nothing to retry: no consumer's queue was bound to the subject when it was sent.
            log.warning("messages reached no queue", count=len(unrouted), subjects=sorted(set(unrouted)))
        if any(isinstance(answer, Basic.Nack) for answer in answers):
            raise RuntimeError("RabbitMQ refused messages (publisher confirm nack); they stay in the outbox")

    async def send_through_exchange(self, message: Message, routing_key: str) -> None:
        exchange = await self._paved_exchange()
        answer = await exchange.publish(message, routing_key=routing_key, timeout=CONFIRM_TIMEOUT_SECONDS)
        if not isinstance(answer, Basic.Ack):
            raise RuntimeError(f"RabbitMQ refused a message for {routing_key}")

    async def send_to_queue(self, message: Message, queue: str) -> None:
        channel = await self._channel()
        answer = await channel.default_exchange.publish(message, routing_key=queue, timeout=CONFIRM_TIMEOUT_SECONDS)
        if not isinstance(answer, Basic.Ack):
            raise RuntimeError(f"RabbitMQ refused a message for queue {queue}")

    async def subscribe(self, consumer: Consumer) -> _RabbitSubscription:
        await self.declare([], [consumer])  # no streams to wait for here: a queue binds to the exchange
        channel = await self._channel(f"consumer:{consumer.name}")
        # A consumer with several handlers has a subscription each: each holds no more than it handles at
        # once, so what one holds back the others take.
        prefetch = consumer.max_ack_pending if consumer.concurrency == 1 else consumer.batch_size
        await channel.set_qos(prefetch_count=prefetch)
        queue = await self._consumer_queue(channel, consumer)
        subscription = _RabbitSubscription(queue, self, consumer)
        await subscription.start()
        return subscription

    async def park(self, delivery: Delivery, *, consumer: str, reason: str, attempts: int) -> None:
        original = {**delivery.headers, _SUBJECT: delivery.subject}
        headers = {
            "Paved-Dlq-Consumer": consumer,
            "Paved-Dlq-Subject": delivery.subject,
            "Paved-Dlq-Reason": reason[:2000],
            "Paved-Dlq-Attempts": str(attempts),
            "Paved-Dlq-Original-Headers": json.dumps(original),
        }
        assert isinstance(delivery, _RabbitDelivery)  # it parks only what it delivered
        # Short, for a person to type. No de-duplication here: a crash before the original's ack
        # parks it twice (a person sees both).
        letter_id = new_id()[:12]
        exchange = await self._paved_exchange()
        answer = await exchange.publish(
            _persistent(delivery.data, message_id=letter_id, headers=headers),
            routing_key=f"{DLQ_SUBJECT_PREFIX}.{consumer}",
            timeout=CONFIRM_TIMEOUT_SECONDS,
        )
        if not isinstance(answer, Basic.Ack):
            raise RuntimeError(f"RabbitMQ refused the dead letter {letter_id}")

    @asynccontextmanager
    async def _browse(self) -> AsyncIterator[list[AbstractIncomingMessage]]:
        """Every dead letter, taken unacked; those the block does not ack go back to the queue."""
        channel = await self._channel("browsing")
        queue = await channel.declare_queue(DLQ_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        messages = []
        try:
            while (message := await queue.get(fail=False, timeout=5)) is not None:
                messages.append(message)
            yield messages
        finally:
            for message in messages:
                if not message.processed:
                    await message.nack(requeue=True)

    @staticmethod
    def _letter(message: AbstractIncomingMessage) -> DeadLetter:
        headers = message.headers
        if "Paved-Dlq-Reason" not in headers:  # dead-lettered by the broker, past x-delivery-limit
            death = (headers.get("x-death") or [{}])[0]  # type: ignore[index]
            consumer = str(death.get("queue", "?"))  # type: ignore[union-attr]
            return DeadLetter(
                id=str(message.message_id or "?"),
                consumer=consumer,
                subject=str(headers.get(_SUBJECT, message.routing_key)),
                reason=f"RabbitMQ's delivery limit of the queue was reached ({death.get('reason', '?')!s})",  # type: ignore[union-attr]
                attempts=int(str(headers.get("x-delivery-count", 0))),
                parked_at=datetime.now(UTC),
                original_headers={k: str(v) for k, v in headers.items() if not k.startswith("x-")},
                body=message.body,
            )
        return DeadLetter(
            id=str(message.message_id),
            consumer=str(headers["Paved-Dlq-Consumer"]),
            subject=str(headers["Paved-Dlq-Subject"]),
            reason=str(headers["Paved-Dlq-Reason"]),
            attempts=int(str(headers["Paved-Dlq-Attempts"])),
            parked_at=message.timestamp or datetime.now(UTC),
            original_headers=json.loads(str(headers["Paved-Dlq-Original-Headers"])),
            body=message.body,
        )

    async def dead_letters(self) -> list[DeadLetter]:
        async with self._browse() as messages:
            return [self._letter(message) for message in messages]

    async def _take(self, letter_id: str, *, replay: bool) -> DeadLetter:
        async with self._browse() as messages:
            for message in messages:
                letter = self._letter(message)
                if letter.id != letter_id:
                    continue
                if replay:
                    # Straight into the queue of the consumer that parked it: the others had it.
                    headers = {**letter.original_headers, _SUBJECT: letter.subject}
                    again = _persistent(letter.body, message_id=headers.get("Paved-Id", letter_id), headers=headers)
                    await self.send_to_queue(again, letter.consumer)
                await message.ack()
                return letter
        raise KeyError(letter_id)

    async def dead_letter(self, letter_id: str) -> DeadLetter:
        for letter in await self.dead_letters():
            if letter.id == letter_id:
                return letter
        raise KeyError(letter_id)

    async def replay(self, letter_id: str) -> DeadLetter:
        return await self._take(letter_id, replay=True)

    async def discard(self, letter_id: str) -> DeadLetter:
        return await self._take(letter_id, replay=False)

    async def describe(self) -> list[dict[str, object]]:
        # AMQP has no way to list queues; the dead letters are the one queue paved always knows.
        channel = await self._channel()
        dlq = await channel.declare_queue(DLQ_QUEUE, passive=True)
        return [
            {
                "name": f"{DLQ_QUEUE} (RabbitMQ: list the rest with `rabbitmqctl list_queues`)",
                "subjects": [f"{DLQ_SUBJECT_PREFIX}.#"],
                "messages": dlq.declaration_result.message_count,
                "consumers": [],
            }
        ]


class RabbitConnection:
    """A service's connection to RabbitMQ, reconnecting for ever once made (the broker may restart)."""

    def __init__(self, url: str, *, name: str) -> None:
        self.url = url
        self.name = name
        self._connection: AbstractRobustConnection | None = None
        self._transport: RabbitTransport | None = None

    @property
    def transport(self) -> RabbitTransport:
        if self._transport is None:
            raise RuntimeError("the broker connection is not started")
        return self._transport

    async def start(self) -> None:
        self._connection = await _connect(self.url, timeout=10.0, name=self.name)
        self._transport = RabbitTransport(self._connection)

    async def ping(self, *, timeout: float) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._transport = self._connection, None, None
            await connection.close()


async def _connect(url: str, *, timeout: float, name: str) -> AbstractRobustConnection:
    try:
        async with asyncio.timeout(timeout):
            return await aio_pika.connect_robust(url, client_properties={"connection_name": name})
    except (OSError, TimeoutError, ConnectionError) as exc:
        raise BrokerUnreachable(f"cannot reach RabbitMQ at {shown(url)}: {exc or type(exc).__name__}") from exc
    except Exception as exc:  # aio-pika's AMQPConnectionError and friends: refused login, vhost, …
        raise BrokerUnreachable(f"cannot connect to RabbitMQ at {shown(url)}: {exc}") from exc


@asynccontextmanager
async def rabbitmq_connection(url: str, *, timeout: float = 5.0) -> AsyncIterator[RabbitTransport]:
    """A short-lived connection, for the CLI and ``python -m paved prepare``."""
    connection = await _connect(url, timeout=timeout, name="paved-cli")
    try:
        yield RabbitTransport(connection)
    finally:
        await connection.close()
