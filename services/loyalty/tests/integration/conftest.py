from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from paved import Service
from paved.migrations import upgrade
from paved.testing import TestTokens, postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from loyalty.app import create_service
from loyalty.settings import LoyaltySettings

from .broker import REPLY_STREAM, REPLY_SUBJECT, declare_stream

MIGRATIONS = Path(__file__).parents[2] / "migrations"
PARTITIONS = 4


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        asyncio.run(declare_stream(url, REPLY_STREAM, subjects=[REPLY_SUBJECT]))
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The loyalty service's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/loyalty.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("loyalty_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture
def settings(database_url: str, broker_url: str) -> LoyaltySettings:
    return LoyaltySettings(database_url=database_url, broker_url=broker_url, loyalty_partitions=PARTITIONS)


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    """The test's own token issuer: real signed access tokens, checked by the service's real verifier."""
    return TestTokens()


@pytest.fixture
async def service(settings: LoyaltySettings, tokens: TestTokens) -> AsyncIterator[Service]:
    """The loyalty service, running with its real database and broker: its consumer takes commands."""
    service = create_service(settings)
    tokens.install(service.app)
    async with service.running():
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The loyalty service's HTTP API, without a network hop."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://loyalty") as client:
        yield client


@pytest.fixture
def customer_id() -> str:
    """A customer of this test's own: the broker and its durable consumer outlive each test's database."""
    return f"acc_{uuid4().hex[:12]}"


@pytest.fixture
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_admin", "admin")
