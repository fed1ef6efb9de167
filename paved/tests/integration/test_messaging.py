from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nats
import pytest

from paved.envelope import Envelope
from paved.messaging.admin import jetstream
from paved.platform.nats import EmbeddedNats, start_nats

from paved.testing import create_tables
from shop import (
    OrderPlaced,
    dead_letters,
    eventually,
    OrderPlacedV2,
    count_points,
    orders_metadata,
    orders_service,
    place_order,
    points_metadata,
    points_service,
)

pytestmark = pytest.mark.nats
HERE = Path(__file__).parent


@pytest.fixture
async def databases(tmp_path: Path) -> tuple[str, str]:
    orders_url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    points_url = f"sqlite+aiosqlite:///{tmp_path}/points.db"
    await create_tables(orders_url, orders_metadata)
    await create_tables(points_url, points_metadata)
    return orders_url, points_url


async def test_an_event_written_with_its_state_change_has_its_effect_once(
    broker: EmbeddedNats, databases: tuple[str, str]
) -> None:
    """Orders committed with their events reach the consumer, each with exactly one effect."""
    orders_url, points_url = databases
    orders = orders_service(database_url=orders_url, broker_url=broker.url)
    points = points_service(database_url=points_url, broker_url=broker.url)
    async with orders.running(), points.running():
        for n in range(50):
            await place_order(orders, f"order-{n}")

        async def all_awarded() -> bool:
            return await count_points(points) == (50, 50)

        assert await eventually(all_awarded), await count_points(points)
        assert orders.messaging and await orders.messaging.outbox.pending() == 0


async def test_a_redelivered_message_has_no_second_effect(broker: EmbeddedNats, databases: tuple[str, str]) -> None:
    """The same envelope arriving twice (past the broker's de-duplication) is applied once (inbox)."""
    _, points_url = databases
    points = points_service(database_url=points_url, broker_url=broker.url)
    envelope = OrderPlaced(order_id="twice", total_minor=500).envelope()
    async with points.running():
        js = points.broker.connection.jetstream()
        for copy in range(2):
            headers = envelope.headers() | {"Nats-Msg-Id": f"{envelope.id}-{copy}"}
            await js.publish("orders.placed", envelope.to_bytes(), headers=headers)

        async def awarded() -> bool:
            return await count_points(points) == (1, 1)

        assert await eventually(awarded)
        await asyncio.sleep(0.5)  # time for the second copy to be (not) applied
        assert await count_points(points) == (1, 1)


async def test_a_message_twice_in_one_batch_has_one_effect(broker: EmbeddedNats, databases: tuple[str, str]) -> None:
    """Both copies wait in the stream, so one fetch takes them together: the batch's one inbox
    statement must not let the second copy through."""
    _, points_url = databases
    envelope = OrderPlaced(order_id="twice-in-a-batch", total_minor=500).envelope()
    async with jetstream(broker.url) as js:
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        for copy in range(2):
            headers = envelope.headers() | {"Nats-Msg-Id": f"{envelope.id}-{copy}"}
            await js.publish("orders.placed", envelope.to_bytes(), headers=headers)
    points = points_service(database_url=points_url, broker_url=broker.url)
    async with points.running():

        async def both_acked() -> bool:
            async with jetstream(broker.url) as js:
                info = await js.consumer_info("ORDERS", "points-orders")
            return info.num_pending == 0 and info.num_ack_pending == 0

        assert await eventually(both_acked)
        assert await count_points(points) == (1, 1)


async def test_a_failing_handler_in_a_batch_costs_the_others_nothing(
    broker: EmbeddedNats, databases: tuple[str, str]
) -> None:
    """A batch is one transaction; when one handler fails the batch's effects are rolled back and
    handled one by one, so every other message still has its effect once, and the failing one is parked."""
    orders_url, points_url = databases
    orders = orders_service(database_url=orders_url, broker_url=broker.url)
    async with orders.running():
        for n in range(30):
            await place_order(orders, "cursed" if n == 15 else f"order-{n}")
        outbox = orders.messaging.outbox if orders.messaging else None
        assert outbox

        async def relayed() -> bool:
            return await outbox.pending() == 0

        assert await eventually(relayed)
    # All 30 wait in the stream, so the consumer's first fetch takes them in one batch.
    points = points_service(database_url=points_url, broker_url=broker.url, fail_orders={"cursed"})
    async with points.running():

        async def parked() -> list:
            return await dead_letters(broker.url)

        assert len(await eventually(parked)) == 1
        assert await count_points(points) == (29, 29)


async def test_poison_messages_are_parked_with_their_reason_and_the_consumer_goes_on(
    broker: EmbeddedNats, databases: tuple[str, str]
) -> None:
    """Unparseable, unknown, unsupported and always-failing messages land in the DLQ; good ones still pass."""
    _, points_url = databases
    points = points_service(database_url=points_url, broker_url=broker.url, fail_orders={"cursed"})
    async with points.running():
        js = points.broker.connection.jetstream()
        await js.publish("orders.placed", b"not json at all")
        unknown = Envelope.new("orders.OrderShipped", {"order_id": "x"})
        await js.publish("orders.shipped", unknown.to_bytes(), headers=unknown.headers())
        newer = OrderPlacedV2(order_id="v2", total="10.00").envelope()
        await js.publish("orders.placed", newer.to_bytes(), headers=newer.headers())
        cursed = OrderPlaced(order_id="cursed", total_minor=100).envelope()
        await js.publish("orders.placed", cursed.to_bytes(), headers=cursed.headers())
        fine = OrderPlaced(order_id="fine", total_minor=700).envelope()
        await js.publish("orders.placed", fine.to_bytes(), headers=fine.headers())

        async def four_parked() -> list:
            parked = await dead_letters(broker.url)
            return parked if len(parked) == 4 else []

        parked = await eventually(four_parked)
        assert await count_points(points) == (1, 1)
    reasons = {headers["Paved-Dlq-Reason"].split(":")[0] for headers, _ in parked}
    assert reasons == {
        "not a paved envelope",
        "unknown message type 'orders.OrderShipped'",
        "unsupported version 2 of orders.OrderPlaced (accepted",
        "failed 3 times, last",
    }
    by_reason = {headers["Paved-Dlq-Reason"][:6]: (headers, body) for headers, body in parked}
    headers, body = by_reason["failed"]
    assert headers["Paved-Dlq-Consumer"] == "points-orders"
    assert headers["Paved-Dlq-Attempts"] == "3"
    assert headers["Paved-Dlq-Subject"] == "orders.placed"
    assert json.loads(headers["Paved-Dlq-Original-Headers"])["Nats-Msg-Id"] == cursed.id
    assert Envelope.from_bytes(body) == cursed


def run_shop(role: str, *, database_url: str, broker_url: str, ready: Path, **env: str) -> subprocess.Popen[bytes]:
    ready.unlink(missing_ok=True)
    output = ready.with_suffix(".log").open("ab")  # read by assertion messages when a test fails
    return subprocess.Popen(
        [sys.executable, str(HERE / "shop.py"), role],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "SHOP_DATABASE_URL": database_url,
            "SHOP_BROKER_URL": broker_url,
            "SHOP_READY_FILE": str(ready),
            **env,
        },
    )


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"exited with {process.returncode}"
        assert time.monotonic() < deadline
        time.sleep(0.05)


async def test_events_committed_before_a_kill_are_published_after_restart(
    broker: EmbeddedNats, databases: tuple[str, str], tmp_path: Path
) -> None:
    """SIGKILL after commit and before publish: the restarted publisher sends them, each effective once."""
    orders_url, points_url = databases
    writer = run_shop("write-and-die", database_url=orders_url, broker_url=broker.url, ready=tmp_path / "w", SHOP_COUNT="30")
    assert writer.wait(timeout=30) == -signal.SIGKILL
    points = points_service(database_url=points_url, broker_url=broker.url)
    async with points.running():
        assert await count_points(points) == (0, 0)
        relay = run_shop("relay", database_url=orders_url, broker_url=broker.url, ready=tmp_path / "r")
        try:

            async def all_awarded() -> bool:
                return await count_points(points) == (30, 30)

            assert await eventually(all_awarded, timeout=45), (await count_points(points), (tmp_path / "r.log").read_text())
        finally:
            relay.kill()
            relay.wait()


async def test_a_consumer_killed_after_its_effect_and_before_its_ack_does_not_repeat_it(
    broker: EmbeddedNats, databases: tuple[str, str], tmp_path: Path
) -> None:
    """SIGKILL between commit and ack: the message is redelivered, and the inbox stops a second effect."""
    orders_url, points_url = databases
    orders = orders_service(database_url=orders_url, broker_url=broker.url)
    async with orders.running():
        await place_order(orders, "order-1")
        dying = run_shop("consume-and-die-before-ack", database_url=points_url, broker_url=broker.url, ready=tmp_path / "d")
        # Waited for in a thread: this loop must keep running the orders relay meanwhile.
        code = await asyncio.to_thread(dying.wait, 30)
        log = (tmp_path / "d.log").read_text(errors="replace")
        assert code == -signal.SIGKILL, log  # died on its first ack, after committing
    points = points_service(database_url=points_url, broker_url=broker.url)
    async with points.running():
        assert await count_points(points) == (1, 1), log  # the effect before the kill

        async def redelivered_and_acked() -> bool:
            client = await nats.connect(broker.url)
            info = await client.jetstream().consumer_info("ORDERS", "points-orders")
            await client.close()
            # Delivered again (more than once if the machine is slow past ack_wait), and all acked.
            return info.delivered.consumer_seq >= 2 and info.num_ack_pending == 0 and info.num_pending == 0

        # The unacked delivery comes back after ack_wait; the inbox recognises it.
        if not await eventually(redelivered_and_acked, timeout=45):
            client = await nats.connect(broker.url)
            info = await client.jetstream().consumer_info("ORDERS", "points-orders")
            await client.close()
            raise AssertionError(f"{info}\n{log}")
        assert await count_points(points) == (1, 1)


async def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(
    broker: EmbeddedNats, databases: tuple[str, str], tmp_path: Path
) -> None:
    """Restarting JetStream while events flow: every event still has exactly one effect."""
    orders_url, points_url = databases
    port = int(broker.url.rsplit(":", 1)[1])
    orders = orders_service(database_url=orders_url, broker_url=broker.url)
    points = points_service(database_url=points_url, broker_url=broker.url)
    async with orders.running(), points.running():
        for n in range(100):
            await place_order(orders, f"order-{n}")
        broker.stop()
        for n in range(100, 200):
            await place_order(orders, f"order-{n}")  # the outbox holds them while the broker is away
        restarted = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log", port=port)

        async def all_awarded() -> bool:
            return await count_points(points) == (200, 200)

        awarded = await eventually(all_awarded, timeout=40)
        counted = await count_points(points)
    restarted.stop()
    assert awarded, counted
