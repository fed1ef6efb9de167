from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from paved.migrations import upgrade
from paved.testing import postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from payment_provider.app import create_service
from payment_provider.settings import ProviderSettings

from .values import Start

MIGRATIONS = Path(__file__).parents[2] / "migrations"


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    # paved's Service connects to a broker even when it sends no messages (see docs/payment.md).
    with running_nats() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The processor's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/provider.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("provider_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture
def start(database_url: str, broker_url: str) -> Start:
    """Starts the processor on the test's database with the settings given: call it again for a restart."""

    @asynccontextmanager
    async def started(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = ProviderSettings(database_url=database_url, broker_url=broker_url, **overrides)
        service = create_service(settings)
        async with service.running():
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://provider") as client:
                yield client

    return started


@pytest.fixture
async def client(start: Start) -> AsyncIterator[httpx.AsyncClient]:
    """The processor as configured by default: no latency, no failures, the test cards declined."""
    async with start() as client:
        yield client
