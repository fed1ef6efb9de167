from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from paved import Service
from paved.messaging.transport import Stream, connected
from paved.migrations import upgrade
from paved.testing import TestTokens, postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from order.settings import OrderSettings

from .edges import Edges
from .running import order_service

MIGRATIONS = Path(__file__).parents[2] / "migrations"
# The partners' command streams, as they declare them: order publishes there and must find them.
PARTNER_STREAMS = [
    Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"]),
    Stream("PAYMENT_COMMANDS", subjects=["payment.commands.>"]),
    Stream("LOYALTY_COMMANDS", subjects=["loyalty.commands.>"]),
]


async def declare_partner_streams(broker_url: str) -> None:
    async with connected(broker_url) as transport:
        await transport.declare(PARTNER_STREAMS, [])


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        asyncio.run(declare_partner_streams(url))
        yield url


@asynccontextmanager
async def migrated_postgres() -> AsyncIterator[str]:
    """A PostgreSQL database and role of order's own, migrated, as in production; skipped if none answers."""
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("order_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """order's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/order.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    async with migrated_postgres() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """order's own PostgreSQL database only: for what only a server database does (replicas sharing it)."""
    async with migrated_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    """The test's own token issuer: real signed access tokens, checked by the service's real verifier."""
    return TestTokens()


@pytest.fixture
def edges() -> Edges:
    return Edges()


@pytest.fixture
def settings(database_url: str, broker_url: str) -> OrderSettings:
    return OrderSettings(
        database_url=database_url,
        broker_url=broker_url,
        catalog_url="http://catalog",
        customer_url="http://customer",
        order_lookup_timeout_seconds=1.0,
    )


@pytest.fixture
async def service(settings: OrderSettings, edges: Edges, tokens: TestTokens) -> AsyncIterator[Service]:
    service = order_service(settings, edges, tokens)
    async with service.running():
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """order's HTTP API, without a network hop."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://order") as client:
        yield client


@pytest.fixture
def ann(tokens: TestTokens) -> dict[str, str]:
    """Ann's own access token, as identity issues it to a customer."""
    return tokens.bearer("acc_ann", "customer")


@pytest.fixture
def bob(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_bob", "customer")


@pytest.fixture
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_root", "admin")
