from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import ServiceSettings
from paved.migrations import upgrade
from paved.testing import TestTokens, postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from catalog.app import create_service

MIGRATIONS = Path(__file__).parents[2] / "migrations"
TOKENS = TestTokens()  # the test's own token issuer, standing in for identity


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The catalog's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/catalog.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("catalog_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture
async def client(database_url: str, broker_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog's HTTP API with its real database and broker, without a network hop."""
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = create_service(settings)
    TOKENS.install(service.app)
    async with service.running():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            yield client


@pytest.fixture
def tokens() -> TestTokens:
    return TOKENS


@pytest.fixture
def admin() -> dict[str, str]:
    return TOKENS.bearer("admin-1", "admin")
