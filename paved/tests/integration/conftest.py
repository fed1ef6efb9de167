from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from paved_platform.nats import EmbeddedNats, start_nats
from paved_platform.testing import TestBroker, throwaway_broker

from paved.testing import BrokerProbe
from shop import ORDERS


def _nats_with_orders(tmp_path: Path) -> EmbeddedNats:
    """A JetStream server with the ORDERS stream, as its owner (the orders service) declares it."""
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log")
    asyncio.run(BrokerProbe(server.url).declare(ORDERS))
    return server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A JetStream server of the test's own, with its store in the test's folder."""
    server = _nats_with_orders(tmp_path)
    yield server
    server.stop()


@pytest.fixture(params=["nats", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def any_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestBroker]:
    """Each broker paved runs on, of the test's own: the test runs once on JetStream, once on RabbitMQ; on
    JetStream the ORDERS stream is there, as its owner (the orders service) declares it."""
    with throwaway_broker(request.param, folder=tmp_path) as broker:
        if broker.kind == "nats":
            asyncio.run(BrokerProbe(broker.url).declare(ORDERS))
        yield broker
