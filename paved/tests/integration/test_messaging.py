from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paved_platform.nats import EmbeddedNats
from paved_platform.testing import TestBroker

from paved._envelope import Envelope
from paved.testing import create_tables
from shop import (
    OrderPlaced,
    OrderPlacedV2,
    count_points,
    dead_letters,
    declare,
    eventually,
    orders_metadata,
    orders_service,
    place_order,
    points_metadata,
    points_service,
    publish,
)

HERE = Path(__file__).parent


@pytest.fixture
async def databases(tmp_path: Path) -> tuple[str, str]:
    orders_url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    points_url = f"sqlite+aiosqlite:///{tmp_path}/points.db"
    await create_tables(orders_url, orders_metadata)
    await create_tables(points_url, points_metadata)
    return orders_url, points_url


async def test_an_event_written_with_its_state_change_has_its_effect_once(
    any_broker: TestBroker, databases: tuple[str, str]
) -> None:
    """Orders committed with their events reach the consumer, each with exactly one effect."""
    orders_url, points_url = databases
    orders = orders_service(database_url=orders_url, broker_url=any_broker.url)
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    async with orders.running(), points.running():
        for n in range(50):
            await place_order(orders, f"order-{n}")

        async def all_awarded() -> bool:
            return await count_points(points) == (50, 50)

        assert await eventually(all_awarded), await count_points(points)
        assert orders.messaging and await orders.messaging.outbox.pending() == 0


async def test_a_redelivered_message_has_no_second_effect(any_broker: TestBroker, databases: tuple[str, str]) -> None:
    """The same envelope arriving twice (past the broker's de-duplication) is applied once (inbox)."""
    _, points_url = databases
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    envelope = OrderPlaced(order_id="twice", total_minor=500).envelope()
    async with points.running():
        for copy in range(2):
            await publish(
                any_broker.url,
                "orders.placed",
                envelope.to_bytes(),
                envelope=envelope,
                broker_id=f"{envelope.id}-{copy}",
            )

        async def awarded() -> bool:
            return await count_points(points) == (1, 1)

        assert await eventually(awarded)
        await asyncio.sleep(0.5)  # time for the second copy to be (not) applied
        assert await count_points(points) == (1, 1)


async def test_a_message_twice_in_one_batch_has_one_effect(any_broker: TestBroker, databases: tuple[str, str]) -> None:
    """Both copies wait in the stream, so one fetch takes them together: the batch's one inbox
    statement must not let the second copy through."""
    _, points_url = databases
    envelope = OrderPlaced(order_id="twice-in-a-batch", total_minor=500).envelope()
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    await declare(any_broker.url, points)
    for copy in range(2):
        await publish(
            any_broker.url, "orders.placed", envelope.to_bytes(), envelope=envelope, broker_id=f"{envelope.id}-{copy}"
        )
    async with points.running():

        async def both_acked() -> bool:
            return await any_broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)

        assert await eventually(both_acked)
        assert await count_points(points) == (1, 1)


async def test_a_failing_handler_in_a_batch_costs_the_others_nothing(
    any_broker: TestBroker, databases: tuple[str, str]
) -> None:
    """A batch is one transaction; when one handler fails the batch's effects are rolled back and
    handled one by one, so every other message still has its effect once, and the failing one is parked."""
    orders_url, points_url = databases
    points = points_service(database_url=points_url, broker_url=any_broker.url, fail_orders={"cursed"})
    await declare(any_broker.url, points)  # its queue exists before anything is sent (on RabbitMQ, it must)
    orders = orders_service(database_url=orders_url, broker_url=any_broker.url)
    async with orders.running():
        for n in range(30):
            await place_order(orders, "cursed" if n == 15 else f"order-{n}")
        outbox = orders.messaging.outbox if orders.messaging else None
        assert outbox

        async def relayed() -> bool:
            return await outbox.pending() == 0

        assert await eventually(relayed)
    # All 30 wait for the consumer, so its first fetch takes them in one batch.
    async with points.running():

        async def parked() -> list:
            return await dead_letters(any_broker.url)

        assert len(await eventually(parked)) == 1
        assert await count_points(points) == (29, 29)


async def test_poison_messages_are_parked_with_their_reason_and_the_consumer_goes_on(
    any_broker: TestBroker, databases: tuple[str, str]
) -> None:
    """Unparseable, unknown, unsupported and always-failing messages land in the DLQ; good ones still pass."""
    _, points_url = databases
    points = points_service(database_url=points_url, broker_url=any_broker.url, fail_orders={"cursed"})
    async with points.running():
        await publish(any_broker.url, "orders.placed", b"not json at all")
        unknown = Envelope.new("orders.OrderShipped", {"order_id": "x"})
        await publish(any_broker.url, "orders.shipped", unknown.to_bytes(), envelope=unknown)
        newer = OrderPlacedV2(order_id="v2", total="10.00").envelope()
        await publish(any_broker.url, "orders.placed", newer.to_bytes(), envelope=newer)
        cursed = OrderPlaced(order_id="cursed", total_minor=100).envelope()
        await publish(any_broker.url, "orders.placed", cursed.to_bytes(), envelope=cursed)
        fine = OrderPlaced(order_id="fine", total_minor=700).envelope()
        await publish(any_broker.url, "orders.placed", fine.to_bytes(), envelope=fine)

        async def four_parked() -> list:
            parked = await dead_letters(any_broker.url)
            return parked if len(parked) == 4 else []

        parked = await eventually(four_parked)
        assert await count_points(points) == (1, 1)
    reasons = {letter.reason.split(":")[0] for letter in parked}
    assert reasons == {
        "not a paved envelope",
        "unknown message type 'orders.OrderShipped'",
        "unsupported version 2 of orders.OrderPlaced (accepted",
        "failed 3 times, last",
    }
    failed = next(letter for letter in parked if letter.reason.startswith("failed"))
    assert failed.consumer == "points-orders"
    assert failed.attempts == 3
    assert failed.subject == "orders.placed"
    assert failed.original_headers["Paved-Id"] == cursed.id
    assert Envelope.from_bytes(failed.body) == cursed


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
    any_broker: TestBroker, databases: tuple[str, str], tmp_path: Path
) -> None:
    """SIGKILL after commit and before publish: the restarted publisher sends them, each effective once."""
    orders_url, points_url = databases
    writer = run_shop(
        "write-and-die", database_url=orders_url, broker_url=any_broker.url, ready=tmp_path / "w", SHOP_COUNT="30"
    )
    assert writer.wait(timeout=30) == -signal.SIGKILL
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    async with points.running():
        assert await count_points(points) == (0, 0)
        relay = run_shop("relay", database_url=orders_url, broker_url=any_broker.url, ready=tmp_path / "r")
        try:

            async def all_awarded() -> bool:
                return await count_points(points) == (30, 30)

            assert await eventually(all_awarded, timeout=45), (
                await count_points(points),
                (tmp_path / "r.log").read_text(),
            )
        finally:
            relay.kill()
            relay.wait()


async def test_a_consumer_killed_after_its_effect_and_before_its_ack_does_not_repeat_it(
    any_broker: TestBroker, databases: tuple[str, str], tmp_path: Path
) -> None:
    """SIGKILL between commit and ack: the message is redelivered, and the inbox stops a second effect."""
    orders_url, points_url = databases
    await declare(any_broker.url, points_service(database_url=points_url, broker_url=any_broker.url))
    orders = orders_service(database_url=orders_url, broker_url=any_broker.url)
    async with orders.running():
        await place_order(orders, "order-1")
        dying = run_shop(
            "consume-and-die-before-ack", database_url=points_url, broker_url=any_broker.url, ready=tmp_path / "d"
        )
        # Waited for in a thread: this loop must keep running the orders relay meanwhile.
        code = await asyncio.to_thread(dying.wait, 30)
        log = (tmp_path / "d.log").read_text(errors="replace")
        assert code == -signal.SIGKILL, log  # died on its first ack, after committing
    # The broker still holds the message it never got an ack for.
    held = await any_broker.backlog(stream="ORDERS", consumer="points-orders")
    assert sum(held) == 1, (held, log)
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    async with points.running():
        assert await count_points(points) == (1, 1), log  # the effect before the kill

        async def redelivered_and_acked() -> bool:
            return await any_broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)

        # It comes back (on JetStream after ack_wait, on RabbitMQ at once); the inbox recognises it.
        assert await eventually(redelivered_and_acked, timeout=45), log
        assert await count_points(points) == (1, 1)


async def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(
    any_broker: TestBroker, databases: tuple[str, str], tmp_path: Path
) -> None:
    """Restarting the broker while events flow: every event still has exactly one effect."""
    orders_url, points_url = databases
    orders = orders_service(database_url=orders_url, broker_url=any_broker.url)
    points = points_service(database_url=points_url, broker_url=any_broker.url)
    async with orders.running(), points.running():
        for n in range(100):
            await place_order(orders, f"order-{n}")
        await asyncio.to_thread(any_broker.stop)
        for n in range(100, 200):
            await place_order(orders, f"order-{n}")  # the outbox holds them while the broker is away
        await asyncio.to_thread(any_broker.start)

        async def all_awarded() -> bool:
            return await count_points(points) == (200, 200)

        awarded = await eventually(all_awarded, timeout=60)
        counted = await count_points(points)
    assert awarded, counted


async def test_a_message_no_stream_takes_is_parked_and_does_not_stall_the_outbox(
    broker: EmbeddedNats, databases: tuple[str, str]
) -> None:
    """On JetStream, an outbox row for a subject no stream takes goes to the dead letters; the rows behind it are sent."""
    orders_url, points_url = databases
    points = points_service(database_url=points_url, broker_url=broker.url)
    orders = orders_service(database_url=orders_url, broker_url=broker.url)
    async with points.running(), orders.running():
        assert orders.messaging
        async with orders.database.transaction() as session:
            stray = OrderPlaced(order_id="stray", total_minor=100).envelope()
            await orders.messaging.outbox.put_envelope(session, stray, subject="nowhere.replies")
        await place_order(orders, "after-the-stray")

        async def sent() -> bool:
            return await count_points(points) == (1, 1) and await orders.messaging.outbox.pending() == 0  # type: ignore[union-attr]

        assert await eventually(sent)
    [letter] = await dead_letters(broker.url)
    assert letter.consumer == "outbox" and letter.subject == "nowhere.replies"
    assert "no stream takes subject 'nowhere.replies'" in letter.reason
