"""Brokers of the test's own, of either kind (as paved's own integration tests have them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import nats
import pytest
from paved.testing import BrokerProbe

from paved_platform.nats import EmbeddedNats, start_nats
from paved_platform.testing import RabbitNode, running_rabbitmq
from shop import ORDERS


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A JetStream server of the test's own, with its store in the test's folder."""
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log")
    yield server
    server.stop()


@dataclass
class TestBroker:
    """A broker of the test's own, of either kind, that the test may stop and start again."""

    __test__ = False  # not a test class, whatever its name

    kind: str
    url: str
    stop: Callable[[], None]
    start: Callable[[], None]
    _backlog: Callable[[str, str], object]

    async def backlog(self, *, stream: str, consumer: str) -> tuple[int, int]:
        """(waiting, delivered and not yet acked) messages of a durable consumer."""
        return await self._backlog(stream, consumer)  # type: ignore[no-any-return, misc]


def _nats(tmp_path: Path) -> Iterator[TestBroker]:
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log")
    asyncio.run(BrokerProbe(server.url).declare(ORDERS))  # as the orders service, its owner, would
    port = int(server.url.rsplit(":", 1)[1])
    current = [server]

    def start() -> None:
        current[0] = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log", port=port)

    async def backlog(stream: str, consumer: str) -> tuple[int, int]:
        client = await nats.connect(server.url)
        try:
            info = await client.jetstream().consumer_info(stream, consumer)
        finally:
            await client.close()
        return info.num_pending, info.num_ack_pending

    yield TestBroker("nats", server.url, lambda: current[0].stop(), start, backlog)
    current[0].stop()


def _rabbitmq(node: RabbitNode) -> TestBroker:
    async def backlog(_: str, consumer: str) -> tuple[int, int]:
        # Ready messages exactly, from the queue itself; unacked ones only from rabbitmqctl, whose
        # figures for a quorum queue lag by a few seconds.
        connection = await aio_pika.connect(node.url)
        async with connection:
            queue = await (await connection.channel()).declare_queue(consumer, passive=True)
            ready = queue.declaration_result.message_count
        _, unacked = (await asyncio.to_thread(node.queues)).get(consumer, (0, 0))
        return ready, unacked

    return TestBroker("rabbitmq", node.url, node.stop, node.start, backlog)


@pytest.fixture(params=["nats", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def any_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestBroker]:
    """Each broker paved runs on, of the test's own: the test runs once on JetStream, once on RabbitMQ."""
    if request.param == "nats":
        yield from _nats(tmp_path)
        return
    with running_rabbitmq() as node:
        yield _rabbitmq(node)
