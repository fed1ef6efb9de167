from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from paved import Envelope
from paved.testing import create_tables

from paved_platform.testing import TestBroker
from shop import (
    OrderPlaced,
    count_points,
    dead_letters,
    eventually,
    points_metadata,
    points_service,
    publish,
)


def paved(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paved_platform", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_parked_message_replayed_after_the_fix_has_exactly_one_effect(
    any_broker: TestBroker, tmp_path: Path
) -> None:
    """`paved dlq list` shows why it was parked; `replay` after the fix applies it once; `discard` drops one."""
    url = f"sqlite+aiosqlite:///{tmp_path}/points.db"
    await create_tables(url, points_metadata)
    broken = points_service(database_url=url, broker_url=any_broker.url, fail_orders={"cursed", "doomed"})
    async with broken.running():
        for order_id in ("cursed", "doomed"):
            envelope = OrderPlaced(order_id=order_id, total_minor=900).envelope()
            await publish(any_broker.url, "orders.placed", envelope.to_bytes(), envelope=envelope)

        async def both_parked_and_acked() -> bool:
            # Acked too: an ack still in flight when the service stops means a redelivery to the
            # fixed service below, which would then take "doomed" itself (at-least-once, rightly).
            parked = len(await dead_letters(any_broker.url)) == 2
            return parked and await any_broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)

        assert await eventually(both_parked_and_acked)

    listed = await asyncio.to_thread(paved, "dlq", "list", "--broker-url", any_broker.url)
    assert listed.returncode == 0, listed.stderr
    assert "points-orders" in listed.stdout and "cannot award points" in listed.stdout
    letters = {
        Envelope.from_bytes(letter.body).data["order_id"]: letter.id for letter in await dead_letters(any_broker.url)
    }
    cursed, doomed = letters["cursed"], letters["doomed"]
    shown = await asyncio.to_thread(paved, "dlq", "show", cursed, "--broker-url", any_broker.url)
    assert '"order_id": "cursed"' in shown.stdout and '"attempts": 3' in shown.stdout, shown.stdout + shown.stderr

    fixed = points_service(database_url=url, broker_url=any_broker.url)
    async with fixed.running():
        replayed = await asyncio.to_thread(paved, "dlq", "replay", cursed, "--broker-url", any_broker.url)
        assert replayed.returncode == 0 and f"replayed {cursed}" in replayed.stdout, replayed.stdout + replayed.stderr

        async def awarded_once() -> bool:
            return await count_points(fixed) == (1, 1)

        assert await eventually(awarded_once), await any_broker.backlog(stream="ORDERS", consumer="points-orders")
        again = await asyncio.to_thread(paved, "dlq", "replay", cursed, "--broker-url", any_broker.url)
        assert again.returncode == 2 and f"no dead letter {cursed}" in again.stderr
        discarded = await asyncio.to_thread(paved, "dlq", "discard", doomed, "--broker-url", any_broker.url)
        assert discarded.returncode == 0
        await asyncio.sleep(0.5)
        assert await count_points(fixed) == (1, 1)
    assert await dead_letters(any_broker.url) == []
    if any_broker.kind == "nats":  # AMQP cannot list queues; `paved streams` says so on RabbitMQ
        streams = await asyncio.to_thread(paved, "streams", "--broker-url", any_broker.url)
        assert "ORDERS" in streams.stdout and "points-orders" in streams.stdout and "PAVED_DLQ" in streams.stdout
