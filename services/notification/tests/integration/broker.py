"""What the integration tests read from, and put on, the real broker, as an operator or a misbehaving peer would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from paved import Envelope
from paved.messaging.transport import DeadLetter, Outgoing, connected

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def publish_copy(broker_url: str, subject: str, envelope: Envelope, *, broker_id: str) -> None:
    """Put ``envelope`` on ``subject`` again under a new broker id, so that JetStream's de-duplication lets it by.

    What a redelivery, a re-publish after JetStream's window, or a replayed dead letter looks like to a consumer.
    """
    async with connected(broker_url) as transport:
        await transport.publish([Outgoing(broker_id, subject, envelope.to_bytes(), envelope.headers())])


async def all_handled(broker_url: str, *, stream: str, consumer: str) -> bool:
    """Whether the durable consumer has taken and acknowledged every message of its stream."""
    async with connected(broker_url) as transport:
        for found in await transport.describe():
            if found["name"] == stream:
                for info in found["consumers"]:  # type: ignore[attr-defined]
                    if info["name"] == consumer:
                        return bool(info["pending"] == 0 and info["ack_pending"] == 0)
    return False


async def dead_letters(broker_url: str) -> list[DeadLetter]:
    async with connected(broker_url) as transport:
        return await transport.dead_letters()
