from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import Service, ServiceSettings
from paved.migrations import upgrade
from paved.testing import TestTokens, postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from warehouse.app import create_service

from .clock import ManualClock

MIGRATIONS = Path(__file__).parents[2] / "migrations"
TOKENS = TestTokens()  # the test's own token issuer, standing in for identity


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The warehouse's own database, migrated and seeded: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/warehouse.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("warehouse_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str, broker_url: str) -> ServiceSettings:
    return ServiceSettings(database_url=database_url, broker_url=broker_url)


@pytest.fixture
async def service(settings: ServiceSettings, clock: ManualClock) -> AsyncIterator[Service]:
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
