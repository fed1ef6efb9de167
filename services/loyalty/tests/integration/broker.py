"""What the integration tests send to, and read from, the real broker, as another service would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from paved import Envelope
from paved.messaging.transport import DeadLetter, connected

T = TypeVar("T")

# Where the tests ask for replies: a reply subject as paved's send_commands makes one, in a stream of its own.
REPLY_STREAM = "SHOP_TEST_REPLIES"
REPLY_SUBJECT = "shop-test.replies"


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def declare_stream(broker_url: str, name: str, *, subjects: list[str]) -> None:
    connection = await nats.connect(broker_url)
    try:
        await connection.jetstream().add_stream(StreamConfig(name=name, subjects=subjects))
    finally:
        await connection.close()


async def publish(broker_url: str, subject: str, envelope: Envelope, *, dedup_id: str | None = None) -> None:
    """Put ``envelope`` on ``subject`` as paved's relay does; another ``dedup_id`` gets a copy past JetStream."""
    connection = await nats.connect(broker_url)
    try:
        headers = {**envelope.headers(), "Nats-Msg-Id": dedup_id or envelope.id}
        await connection.jetstream().publish(subject, envelope.to_bytes(), headers=headers)
    finally:
        await connection.close()


async def messages_on(broker_url: str, stream: str, *, correlation_ids: set[str]) -> list[Envelope]:
    """Every message in ``stream`` that belongs to one of ``correlation_ids``, in stream order."""
    connection = await nats.connect(broker_url)
    try:
        js = connection.jetstream()
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            return []
        if info.state.messages == 0:
            return []  # an empty stream's first and last sequence are 0, which is no message
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            data = (await js.get_msg(stream, seq)).data
            assert data is not None, f"{stream} #{seq} has no body"
            envelope = Envelope.from_bytes(data)
            if envelope.correlation_id in correlation_ids:
                found.append(envelope)
        return found
    finally:
        await connection.close()


async def all_handled(broker_url: str, *, stream: str, consumer: str) -> bool:
    """Whether the durable consumer has taken and acknowledged every message of its stream."""
    connection = await nats.connect(broker_url)
    try:
        info = await connection.jetstream().consumer_info(stream, consumer)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)
    finally:
        await connection.close()


async def dead_letters(broker_url: str) -> list[DeadLetter]:
    async with connected(broker_url) as transport:
        return await transport.dead_letters()
