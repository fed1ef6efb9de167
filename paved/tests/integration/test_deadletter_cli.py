from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from paved.messaging.admin import jetstream
from paved.platform.nats import EmbeddedNats

from paved.testing import create_tables
from shop import OrderPlaced, count_points, dead_letters, eventually, points_metadata, points_service

pytestmark = pytest.mark.nats


def paved(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paved", *args], capture_output=True, text=True, timeout=60, check=False
    )


async def test_a_parked_message_replayed_after_the_fix_has_exactly_one_effect(
    broker: EmbeddedNats, tmp_path: Path
) -> None:
    """`paved dlq list` shows why it was parked; `replay` after the fix applies it once; `discard` drops one."""
    url = f"sqlite+aiosqlite:///{tmp_path}/points.db"
    await create_tables(url, points_metadata)
    broken = points_service(database_url=url, broker_url=broker.url, fail_orders={"cursed", "doomed"})
    async with broken.running():
        js = broken.broker.connection.jetstream()
        for order_id in ("cursed", "doomed"):
            envelope = OrderPlaced(order_id=order_id, total_minor=900).envelope()
            await js.publish("orders.placed", envelope.to_bytes(), headers=envelope.headers())

        async def both_parked_and_acked() -> bool:
            # Acked too: an ack still in flight when the service stops means a redelivery to the
            # fixed service below, which would then take "doomed" itself (at-least-once, rightly).
            async with jetstream(broker.url) as js:
                info = await js.consumer_info("ORDERS", "points-orders")
            return len(await dead_letters(broker.url)) == 2 and info.num_ack_pending == 0

        assert await eventually(both_parked_and_acked)

    listed = await asyncio.to_thread(paved, "dlq", "list", "--broker-url", broker.url)
    assert listed.returncode == 0, listed.stderr
    assert "points-orders" in listed.stdout and "cannot award points for" in listed.stdout
    shown = await asyncio.to_thread(paved, "dlq", "show", "1", "--broker-url", broker.url)
    assert '"order_id": "cursed"' in shown.stdout and '"attempts": 3' in shown.stdout

    fixed = points_service(database_url=url, broker_url=broker.url)
    async with fixed.running():
        replayed = await asyncio.to_thread(paved, "dlq", "replay", "1", "--broker-url", broker.url)
        assert replayed.returncode == 0 and "replayed 1" in replayed.stdout, replayed.stdout + replayed.stderr

        async def awarded_once() -> bool:
            return await count_points(fixed) == (1, 1)

        if not await eventually(awarded_once):
            async with jetstream(broker.url) as js:
                raise AssertionError(await js.consumer_info("ORDERS", "points-orders"))
        again = await asyncio.to_thread(paved, "dlq", "replay", "1", "--broker-url", broker.url)
        assert again.returncode == 2 and "no dead letter 1" in again.stderr
        discarded = await asyncio.to_thread(paved, "dlq", "discard", "2", "--broker-url", broker.url)
        assert discarded.returncode == 0
        await asyncio.sleep(0.5)
        assert await count_points(fixed) == (1, 1)
    assert await dead_letters(broker.url) == []
    streams = await asyncio.to_thread(paved, "streams", "--broker-url", broker.url)
    assert "ORDERS" in streams.stdout and "points-orders" in streams.stdout and "PAVED_DLQ" in streams.stdout
