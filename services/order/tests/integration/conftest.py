from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import Service
from paved.messaging import Stream
from paved.testing import BrokerProbe, TestTokens, database_url_fixture, migrated_database
from paved_platform.testing import running_nats

from order.settings import OrderSettings

from .edges import Edges
from .running import order_service

MIGRATIONS = Path(__file__).parents[2] / "migrations"
# The partners' streams, as their owners declare them: order sends its commands to theirs, and follows
# their events (a choreographed order's, and its saga view's).
PARTNER_STREAMS = [
    Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"]),
    Stream("PAYMENT_COMMANDS", subjects=["payment.commands.>"]),
    Stream("LOYALTY_COMMANDS", subjects=["loyalty.commands.>"]),
    Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"]),
    Stream("PAYMENT_EVENTS", subjects=["payment.events.>"]),
    Stream("LOYALTY_EVENTS", subjects=["loyalty.events.>"]),
]

# order's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=MIGRATIONS, name="order")


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        asyncio.run(BrokerProbe(url).declare(*PARTNER_STREAMS))
        yield url


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    """order's own PostgreSQL database only: for what only a server database does (replicas sharing it)."""
    async with migrated_database("postgres", migrations=MIGRATIONS, name="order", folder=tmp_path) as url:
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
