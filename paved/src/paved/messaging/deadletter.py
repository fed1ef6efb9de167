"""The dead-letter stream: messages a consumer could not take, kept with why, for a person to re-drive."""

from __future__ import annotations

import json

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

DLQ_STREAM = "PAVED_DLQ"
DLQ_SUBJECTS = "paved.dlq.>"


def dlq_stream() -> StreamConfig:
    return StreamConfig(name=DLQ_STREAM, subjects=[DLQ_SUBJECTS], max_age=30 * 24 * 3600.0)


async def park(js: JetStreamContext, msg: Msg, *, consumer: str, reason: str, attempts: int) -> None:
    """Copy ``msg`` to the dead-letter stream with the reason; the caller then acks the original."""
    original = dict(msg.headers or {})
    headers = {
        # The original's id, prefixed: parking the same delivery twice (a crash before the ack) keeps one.
        "Nats-Msg-Id": f"dlq:{consumer}:{original.get('Nats-Msg-Id', msg.reply)}",
        "Paved-Dlq-Consumer": consumer,
        "Paved-Dlq-Subject": msg.subject,
        "Paved-Dlq-Reason": reason[:2000],
        "Paved-Dlq-Attempts": str(attempts),
        "Paved-Dlq-Original-Headers": json.dumps(original),
    }
    await js.publish(f"paved.dlq.{consumer}", msg.data, headers=headers)
