"""What the integration tests read from the real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.js.errors import NotFoundError
from paved import Envelope

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


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
            return []  # an empty stream has no first message to start from
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            envelope = Envelope.from_bytes((await js.get_msg(stream, seq)).data or b"")
            if envelope.correlation_id in correlation_ids:
                found.append(envelope)
        return found
    finally:
        await connection.close()
