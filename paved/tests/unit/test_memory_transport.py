"""The in-memory broker keeps JetStream's semantics, and paved's outbox and consumers run over it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from paved._database import Database
from paved._envelope import Envelope
from paved.messaging import Event, Handling, MessagingTables, Outbox, messaging_tables
from paved.messaging._consumer import Consumer, ConsumerRunner
from paved.messaging._memory import (
    MemoryBroker,
    MemoryTransport,
    StreamNotFound,
    forget_memory_broker,
    memory_broker,
    memory_broker_for_test,
    subject_matches,
)
from paved.messaging._memory_broker import ConsumerState, MemoryDelivery
from paved.messaging._transport import Outgoing, Stream
from paved.testing import create_tables, eventually

ORDERS = Stream("ORDERS", subjects=["orders.>"])


@pytest.fixture
def broker() -> Iterator[MemoryBroker]:
    with memory_broker_for_test() as broker:
        yield broker


@pytest.fixture
async def transport(broker: MemoryBroker) -> MemoryTransport:
    transport = MemoryTransport(broker)
    await transport.declare([ORDERS], [])
    return transport


def outgoing(subject: str, body: bytes = b"{}", *, id_: str | None = None) -> Outgoing:
    envelope = Envelope.new("orders.OrderPlaced", {"body": body.decode()})
    return Outgoing(id_ or envelope.id, subject, body, envelope.headers())


def consumer(
    name: str = "points-orders",
    *,
    subjects: tuple[str, ...] = ("orders.>",),
    **options: Any,
) -> Consumer:
    return Consumer(name=name, stream="ORDERS", subjects=list(subjects), **options)


def test_subjects_match_as_in_nats() -> None:
    """``*`` matches exactly one token and ``>`` one or more trailing tokens, never zero."""
    assert subject_matches("orders.placed", "orders.placed")
    assert subject_matches("orders.*", "orders.placed")
    assert not subject_matches("orders.*", "orders.placed.eu")
    assert not subject_matches("orders.*", "orders")
    assert subject_matches("orders.>", "orders.placed.eu")
    assert not subject_matches("orders.>", "orders")
    assert subject_matches("*.placed", "orders.placed")
    assert subject_matches(">", "anything.at.all")
    assert not subject_matches("orders.placed", "orders.shipped")
    assert not subject_matches("orders", "orders.placed")


async def test_a_stream_takes_only_its_subjects_and_overlapping_streams_are_refused(
    broker: MemoryBroker,
) -> None:
    """A message goes to the stream whose subjects match it; a second stream overlapping the first is refused."""
    broker.declare_stream(Stream("EU", subjects=["eu.*.placed"]))
    # Declared again with another subject: an update, not an overlap.
    broker.declare_stream(Stream("EU", subjects=["eu.*.placed", "eu.*.paid"]))
    assert broker.store("eu.shop.paid", b"x", {}) == 1
    with pytest.raises(ValueError, match="overlap"):
        broker.declare_stream(Stream("ALL_PLACED", subjects=["*.*.placed"]))
    broker.declare_stream(Stream("US", subjects=["us.>"]))
    assert broker.stream_for("us.a.b") is broker.streams["US"]
    assert broker.stream_for("eu.shop.refunded") is None


async def test_a_republished_message_id_is_stored_once_within_the_window(
    broker: MemoryBroker,
) -> None:
    """A ``Nats-Msg-Id`` seen within the duplicate window is dropped; after the window it is stored again."""
    broker.duplicate_window_seconds = 0.05
    transport = MemoryTransport(broker)
    await transport.declare([ORDERS], [])
    message = outgoing("orders.placed")
    await transport.publish([message, message])
    assert len(broker.streams["ORDERS"].messages) == 1
    await asyncio.sleep(0.1)
    await transport.publish([message])
    assert len(broker.streams["ORDERS"].messages) == 2


async def test_consumers_keep_their_own_positions_and_filters(
    transport: MemoryTransport,
) -> None:
    """Each durable consumer sees the messages its filter takes, from its own position, whatever the others do."""
    placed = consumer("placed", subjects=("orders.placed",))
    everything = consumer("everything")
    await transport.declare([], [placed, everything])
    await transport.publish(
        [
            outgoing("orders.placed"),
            outgoing("orders.shipped"),
            outgoing("orders.placed"),
        ]
    )
    first = await (await transport.subscribe(placed)).fetch(10, timeout=0.1)
    assert [d.subject for d in first] == ["orders.placed", "orders.placed"]
    for delivery in first:
        await delivery.ack()
    every = await (await transport.subscribe(everything)).fetch(2, timeout=0.1)
    assert [d.subject for d in every] == ["orders.placed", "orders.shipped"]
    assert transport.broker.backlog(stream="ORDERS", consumer="everything") == (1, 2)
    assert transport.broker.backlog(stream="ORDERS", consumer="placed") == (0, 0)


async def test_a_consumer_declared_after_publishing_sees_the_earlier_messages(
    transport: MemoryTransport,
) -> None:
    """A durable consumer starts at the stream's beginning (DeliverPolicy.ALL), not at its end."""
    await transport.publish([outgoing("orders.placed", b"1"), outgoing("orders.placed", b"2")])
    late = await transport.subscribe(consumer("late"))
    assert [d.data for d in await late.fetch(10, timeout=0.1)] == [b"1", b"2"]


async def test_ack_retry_and_hand_back_settle_a_delivery_each_its_way(
    transport: MemoryTransport,
) -> None:
    """An acked message never comes back; a retried one comes back after its delay; a handed-back one at once."""
    subscription = await transport.subscribe(consumer(ack_wait_seconds=30.0))
    await transport.publish([outgoing("orders.placed", b"acked"), outgoing("orders.placed", b"retried")])
    acked, retried = await subscription.fetch(10, timeout=0.1)
    await acked.ack()
    started = time.monotonic()
    await retried.retry(delay=0.3)
    assert await subscription.fetch(10, timeout=0.05) == []
    [again] = await subscription.fetch(10, timeout=2)
    assert again.data == b"retried" and again.attempts == 2
    assert time.monotonic() - started >= 0.3
    await again.hand_back()
    [third] = await subscription.fetch(10, timeout=0.05)
    assert third.data == b"retried" and third.attempts == 3
    await third.ack()
    assert await subscription.fetch(10, timeout=0.05) == []


async def test_an_unsettled_delivery_comes_back_after_ack_wait_with_its_count(
    transport: MemoryTransport,
) -> None:
    """A delivery neither acked nor nak'd is delivered again once ``ack_wait`` has passed, one more attempt each time."""
    subscription = await transport.subscribe(consumer(ack_wait_seconds=0.1))
    await transport.publish([outgoing("orders.placed")])
    [first] = await subscription.fetch(10, timeout=0.1)
    assert first.attempts == 1
    started = time.monotonic()
    [second] = await subscription.fetch(10, timeout=2)
    assert second.attempts == 2 and time.monotonic() - started >= 0.05
    await first.ack()  # an ack of an earlier delivery acks the message, as on JetStream
    assert await subscription.fetch(10, timeout=0.2) == []


async def test_max_deliver_is_a_backstop_past_which_a_message_is_not_delivered(
    transport: MemoryTransport,
) -> None:
    """With ``max_deliver=1`` the broker delivers a message twice at most (one past paved's count), then drops it."""
    subscription = await transport.subscribe(consumer(max_deliver=1))
    await transport.publish([outgoing("orders.placed")])
    for attempt in (1, 2):
        [delivery] = await subscription.fetch(10, timeout=0.1)
        assert delivery.attempts == attempt
        await delivery.hand_back()
    assert await subscription.fetch(10, timeout=0.05) == []
    assert transport.broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)


async def test_max_ack_pending_caps_what_is_out_until_something_is_acked(
    transport: MemoryTransport,
) -> None:
    """No more than ``max_ack_pending`` messages are out unacked; an ack lets the next one through."""
    subscription = await transport.subscribe(consumer(max_ack_pending=2))
    await transport.publish([outgoing("orders.placed", str(n).encode()) for n in range(5)])
    out = await subscription.fetch(10, timeout=0.1)
    assert [d.data for d in out] == [b"0", b"1"]
    assert await subscription.fetch(10, timeout=0.05) == []
    await out[0].ack()
    assert [d.data for d in await subscription.fetch(10, timeout=0.1)] == [b"2"]


async def test_fetch_waits_for_a_publish_and_returns_nothing_on_timeout(
    transport: MemoryTransport,
) -> None:
    """A waiting fetch returns as soon as a message is published, and an empty list when none comes in time."""
    subscription = await transport.subscribe(consumer())
    started = time.monotonic()
    assert await subscription.fetch(10, timeout=0.1) == []
    assert time.monotonic() - started >= 0.1
    waiting = asyncio.create_task(subscription.fetch(10, timeout=5))
    await asyncio.sleep(0.05)
    await transport.publish([outgoing("orders.placed")])
    assert len(await asyncio.wait_for(waiting, timeout=1)) == 1


class CountingBroker(MemoryBroker):
    """A broker that counts how often subscriptions look for deliveries."""

    looked = 0

    def take(self, state: ConsumerState, max_messages: int) -> list[MemoryDelivery]:
        self.looked += 1
        return super().take(state, max_messages)


async def test_a_waiting_fetch_sleeps_instead_of_polling() -> None:
    """A fetch with nothing to deliver looks once, then sleeps until a change or its timeout."""
    broker = CountingBroker()
    transport = MemoryTransport(broker)
    await transport.declare([ORDERS], [])
    subscription = await transport.subscribe(consumer(ack_wait_seconds=30.0))
    await transport.publish([outgoing("orders.placed")])
    assert len(await subscription.fetch(10, timeout=0.1)) == 1  # out, unacked
    broker.looked = 0
    assert await subscription.fetch(10, timeout=0.3) == []
    assert broker.looked <= 2


async def test_a_message_no_stream_takes_is_parked_as_unroutable(
    transport: MemoryTransport,
) -> None:
    """Publishing to a subject no stream takes parks the message with the reason, as jetstream.py does."""
    stray = outgoing("nowhere.replies")
    await transport.publish([stray, outgoing("orders.placed")])
    [letter] = await transport.dead_letters()
    assert letter.consumer == "outbox" and letter.subject == "nowhere.replies"
    assert "no stream takes subject 'nowhere.replies'" in letter.reason
    assert letter.original_headers["Nats-Msg-Id"] == stray.id and letter.body == stray.body
    assert len(transport.broker.streams["ORDERS"].messages) == 1


async def test_a_parked_message_is_listed_replayed_or_discarded(
    transport: MemoryTransport,
) -> None:
    """Parking keeps one letter per delivery; replay republishes it with its envelope id and a new de-duplication id."""
    subscription = await transport.subscribe(consumer())
    sent = [outgoing("orders.placed", b"poison"), outgoing("orders.placed", b"junk")]
    await transport.publish(sent)
    poison, junk = await subscription.fetch(10, timeout=0.1)
    # The same delivery parked twice, as after a crash before its ack.
    for delivery in (poison, poison, junk):
        await transport.park(
            delivery,
            consumer="points-orders",
            reason="handler failed",
            attempts=delivery.attempts,
        )
        await delivery.ack()
    letters = await transport.dead_letters()
    assert [(x.body, x.consumer, x.reason, x.attempts) for x in letters] == [
        (b"poison", "points-orders", "handler failed", 1),
        (b"junk", "points-orders", "handler failed", 1),
    ]
    assert (await transport.dead_letter(letters[0].id)).body == b"poison"
    replayed = await transport.replay(letters[0].id)
    [again] = await subscription.fetch(10, timeout=0.1)
    assert again.data == b"poison" and again.headers["Paved-Id"] == replayed.original_headers["Paved-Id"]
    assert again.headers["Nats-Msg-Id"] != sent[0].id
    await transport.discard(letters[1].id)
    assert await transport.dead_letters() == []
    with pytest.raises(KeyError):
        await transport.dead_letter(letters[1].id)


async def test_subscribe_creates_the_durable_consumer_once(broker: MemoryBroker, transport: MemoryTransport) -> None:
    """Subscribing to an undeclared consumer creates it; a second subscription shares its position and work."""
    await transport.publish([outgoing("orders.placed", b"1"), outgoing("orders.placed", b"2")])
    first = await transport.subscribe(consumer())
    second = await transport.subscribe(consumer())
    assert list(broker.consumers) == [("ORDERS", "points-orders")]
    assert [d.data for d in await first.fetch(1, timeout=0.1)] == [b"1"]
    assert [d.data for d in await second.fetch(1, timeout=0.1)] == [b"2"]
    [described] = [s for s in await transport.describe() if s["name"] == "ORDERS"]
    assert described["consumers"] == [
        {
            "name": "points-orders",
            "pending": 0,
            "ack_pending": 2,
            "redelivered": 0,
            "max_deliver": 6,
        }
    ]


async def test_subscribing_before_the_stream_exists_raises_stream_not_found(
    broker: MemoryBroker,
) -> None:
    """A consumer of a stream nobody has declared yet is refused with ``StreamNotFound`` until its owner declares it."""
    transport = MemoryTransport(broker)
    with pytest.raises(StreamNotFound, match="ORDERS"):
        await transport.subscribe(consumer())
    await transport.declare([ORDERS], [])
    await transport.subscribe(consumer())


def test_a_memory_url_names_one_broker_per_process() -> None:
    """``memory://NAME`` gives every user in the process the same broker until it is forgotten."""
    url = "memory://test-registry"
    try:
        assert memory_broker(url) is memory_broker(url)
        first = memory_broker(url)
        forget_memory_broker(url)
        assert memory_broker(url) is not first
    finally:
        forget_memory_broker(url)
    with pytest.raises(ValueError, match="memory://"):
        memory_broker("nats://127.0.0.1:4222")


# paved's real outbox relay and consumer runner over the memory transport, on SQLite.


class OrderPlaced(Event, type="orders.OrderPlaced", version=1, subject="orders.placed"):
    order_id: str


metadata = MetaData()
points = Table("points", metadata, Column("order_id", String), Column("points", Integer))
tables: MessagingTables = messaging_tables(metadata)


@dataclass
class Shop:
    database: Database
    outbox: Outbox
    transport: MemoryTransport
    handled: list[str]

    async def place(self, order_id: str) -> None:
        async with self.database.transaction() as session:
            await self.outbox.put(session, OrderPlaced(order_id=order_id))

    async def points(self) -> tuple[int, int]:
        async with self.database.read() as session:
            rows = (await session.execute(select(func.count()).select_from(points))).scalar_one()
            distinct = (await session.execute(select(func.count(points.c.order_id.distinct())))).scalar_one()
        return rows, distinct

    async def running(self, consumer: Consumer) -> asyncio.Task[None]:
        # Declared first, as a service's start does before it starts its runners.
        await self.transport.declare([], [consumer])
        runner = ConsumerRunner(
            consumer,
            transport=self.transport,
            database=self.database,
            inbox=tables.inbox,
            outbox=self.outbox,
        )
        return asyncio.create_task(runner.run(asyncio.Event()))


@pytest.fixture
async def shop(tmp_path: Path, transport: MemoryTransport) -> AsyncIterator[Shop]:
    url = f"sqlite+aiosqlite:///{tmp_path}/shop.db"
    await create_tables(url, metadata)
    database = Database(url)
    await database.start()
    yield Shop(database, Outbox(tables.outbox, database=database), transport, [])
    await database.stop()


def points_consumer(shop: Shop, *, fail: frozenset[str] = frozenset()) -> Consumer:
    awarding = consumer(max_deliver=3, backoff_seconds=(0.01, 0.02))

    @awarding.handles(OrderPlaced)
    async def award_points(handling: Handling, event: OrderPlaced) -> None:
        shop.handled.append(event.order_id)
        if event.order_id in fail:
            raise RuntimeError(f"cannot award points for {event.order_id}")
        await handling.session.execute(insert(points).values(order_id=event.order_id, points=1))

    return awarding


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_message_written_to_the_outbox_is_relayed_and_handled_once(
    shop: Shop,
) -> None:
    """An outbox row is published by the relay, deleted after, and has its effect once in the consumer."""
    runner = await shop.running(points_consumer(shop))
    try:
        await shop.place("order-1")
        assert await shop.outbox.relay_batch(shop.transport) == 1
        assert await shop.outbox.pending() == 0

        async def awarded() -> bool:
            return await shop.points() == (1, 1)

        assert await eventually(awarded)
        assert shop.transport.broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)
    finally:
        await stopped(runner)


async def test_a_relay_that_publishes_twice_has_one_effect(shop: Shop) -> None:
    """Rows published again (a crash between publish and delete) are dropped by the stream's de-duplication."""
    await shop.place("order-1")
    async with shop.database.read() as session:
        rows = (await session.execute(select(tables.outbox))).all()
    await shop.transport.publish([Outgoing(row.id, row.subject, row.body, row.headers) for row in rows])
    assert await shop.outbox.relay_batch(shop.transport) == 1
    runner = await shop.running(points_consumer(shop))
    try:

        async def awarded() -> bool:
            return await shop.points() == (1, 1)

        assert await eventually(awarded)
        assert len(shop.transport.broker.streams["ORDERS"].messages) == 1
    finally:
        await stopped(runner)


async def test_a_failing_handler_is_retried_then_parked_with_the_reason(
    shop: Shop,
) -> None:
    """A handler that always fails runs ``max_deliver`` times, then its message is parked; the next one is handled."""
    await shop.place("cursed")
    await shop.place("fine")
    await shop.outbox.relay_batch(shop.transport)
    runner = await shop.running(points_consumer(shop, fail=frozenset({"cursed"})))
    try:

        async def parked() -> bool:
            return len(await shop.transport.dead_letters()) == 1

        assert await eventually(parked)
        assert await shop.points() == (1, 1)
    finally:
        await stopped(runner)
    [letter] = await shop.transport.dead_letters()
    assert letter.consumer == "points-orders" and letter.subject == "orders.placed"
    assert letter.reason.startswith("failed 3 times, last: RuntimeError: cannot award points for cursed")
    assert letter.attempts == 3
    assert Envelope.from_bytes(letter.body).data == {"order_id": "cursed"}
    # Once in the batch (rolled back), then three times alone.
    assert shop.handled.count("cursed") == 4


async def test_a_duplicate_delivery_has_one_effect(shop: Shop) -> None:
    """The same envelope stored twice (past the broker's de-duplication) is applied once, by the inbox."""
    envelope = OrderPlaced(order_id="twice").envelope()
    for copy in range(2):
        message = Outgoing(
            f"{envelope.id}-{copy}",
            "orders.placed",
            envelope.to_bytes(),
            envelope.headers(),
        )
        await shop.transport.publish([message])
    runner = await shop.running(points_consumer(shop))
    try:

        async def both_acked() -> bool:
            return shop.transport.broker.backlog(stream="ORDERS", consumer="points-orders") == (0, 0)

        assert await eventually(both_acked)
        assert await shop.points() == (1, 1)
    finally:
        await stopped(runner)
