"""What a person does with the broker: look at streams, and inspect and re-drive dead letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from paved.messaging.deadletter import DLQ_STREAM


@dataclass(frozen=True)
class DeadLetter:
    seq: int
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


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    async def quiet(_: Exception) -> None:  # the caller reports the failure once, in a sentence
        pass

    client = await asyncio.wait_for(
        nats.connect(url, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=1, error_cb=quiet),
        timeout=5,
    )
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    """Every parked message, oldest first."""
    try:
        info = await js.stream_info(DLQ_STREAM)
    except NotFoundError:
        return []
    if info.state.messages == 0:
        return []
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            found.append(await dead_letter(js, seq))
        except NotFoundError:
            continue  # discarded or replayed
    return found


async def dead_letter(js: JetStreamContext, seq: int) -> DeadLetter:
    raw = await js.get_msg(DLQ_STREAM, seq)
    headers = dict(raw.headers or {})
    return DeadLetter(
        seq=seq,
        consumer=headers.get("Paved-Dlq-Consumer", "?"),
        subject=headers.get("Paved-Dlq-Subject", "?"),
        reason=headers.get("Paved-Dlq-Reason", ""),
        attempts=int(headers.get("Paved-Dlq-Attempts", "0")),
        parked_at=raw.time or datetime.now(UTC),
        original_headers=json.loads(headers.get("Paved-Dlq-Original-Headers", "{}")),
        body=raw.data or b"",
    )


async def replay(js: JetStreamContext, seq: int) -> DeadLetter:
    """Send a parked message again to its subject, then remove it from the dead-letter stream.

    It keeps its envelope id, so consumers that already took it skip it (their inbox has it) and
    the one that failed takes it once. Its broker de-duplication id is new: the broker would
    otherwise drop it as a copy of the original.
    """
    letter = await dead_letter(js, seq)
    headers = dict(letter.original_headers)
    headers["Nats-Msg-Id"] = f"{headers.get('Nats-Msg-Id', 'message')}:replay:{seq}"
    await js.publish(letter.subject, letter.body, headers=headers)
    await js.delete_msg(DLQ_STREAM, seq)
    return letter


async def discard(js: JetStreamContext, seq: int) -> DeadLetter:
    letter = await dead_letter(js, seq)
    await js.delete_msg(DLQ_STREAM, seq)
    return letter


async def streams(js: JetStreamContext) -> list[dict[str, object]]:
    """Every stream with its subjects, size and consumers."""
    found = []
    for info in await js.streams_info():
        consumers = []
        for consumer in await js.consumers_info(info.config.name):
            consumers.append(
                {
                    "name": consumer.name,
                    "pending": consumer.num_pending,
                    "ack_pending": consumer.num_ack_pending,
                    "redelivered": consumer.num_redelivered,
                    "max_deliver": consumer.config.max_deliver,
                }
            )
        found.append(
            {
                "name": info.config.name,
                "subjects": list(info.config.subjects or []),
                "messages": info.state.messages,
                "consumers": consumers,
            }
        )
    return found
