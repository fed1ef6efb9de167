"""Brokers of the test's own, of either kind (as paved's own integration tests have them)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from paved.testing import BrokerProbe

from paved_platform.nats import EmbeddedNats, start_nats
from paved_platform.testing import TestBroker, throwaway_broker
from shop import ORDERS


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A JetStream server of the test's own, with its store in the test's folder."""
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log")
    yield server
    server.stop()


@pytest.fixture(params=["nats", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def any_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestBroker]:
    """Each broker paved runs on, of the test's own; on JetStream with the ORDERS stream the points service
    follows, as its owner would declare it."""
    with throwaway_broker(request.param, folder=tmp_path) as broker:
        if broker.kind == "nats":
            asyncio.run(BrokerProbe(broker.url).declare(ORDERS))
        yield broker
