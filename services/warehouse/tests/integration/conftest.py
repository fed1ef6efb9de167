from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import Service, ServiceSettings
from paved.testing import BrokerProbe, TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from warehouse.app import create_service

from ..partner_events import STREAMS
from .clock import ManualClock

MIGRATIONS = Path(__file__).parents[2] / "migrations"
TOKENS = TestTokens()  # the test's own token issuer, standing in for identity


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


# The warehouse's own database, migrated and seeded: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=MIGRATIONS, name="warehouse")


@pytest.fixture
async def broker(broker_url: str) -> BrokerProbe:
    """The broker as order and payment see it, with their streams declared as they declare them."""
    probe = BrokerProbe(broker_url)
    await probe.declare(*STREAMS)
    return probe


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str, broker_url: str) -> ServiceSettings:
    return ServiceSettings(database_url=database_url, broker_url=broker_url)


@pytest.fixture
async def service(settings: ServiceSettings, clock: ManualClock, broker: BrokerProbe) -> AsyncIterator[Service]:
    """The warehouse, running with its real database and broker, on the test's clock."""
    service = create_service(settings, clock=clock)
    TOKENS.install(service.app)
    async with service.running():
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The warehouse's HTTP API, without a network hop."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warehouse") as client:
        yield client


@pytest.fixture
def admin() -> dict[str, str]:
    return TOKENS.bearer("admin-1", "admin")
