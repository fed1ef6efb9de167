from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from paved import Service
from paved.messaging import Stream
from paved.testing import BrokerProbe, TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from loyalty import partners
from loyalty.app import create_service
from loyalty.settings import LoyaltySettings
from loyalty.store import DatabaseLedger

MIGRATIONS = Path(__file__).parents[2] / "migrations"
PARTITIONS = 4

# Where the tests ask for replies: a reply subject as paved's send_commands makes one, in a stream of its own.
REPLY_SUBJECT = "shop-test.replies"
REPLIES = Stream("SHOP_TEST_REPLIES", subjects=[REPLY_SUBJECT])
# The streams loyalty follows, declared as their owners (order, payment) declare them.
PARTNER_STREAMS = [
    Stream(partners.ORDER_EVENTS, subjects=["order.events.>"]),
    Stream(partners.PAYMENT_EVENTS, subjects=["payment.events.>"]),
]


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """A NATS JetStream server for the session, with the test's reply stream and the partners' streams."""
    with running_nats() as url:
        asyncio.run(BrokerProbe(url).declare(REPLIES, *PARTNER_STREAMS))
        yield url


@pytest.fixture
def probe(broker_url: str) -> BrokerProbe:
    """The broker as the loyalty service's partners see it: publish to it, read its streams."""
    return BrokerProbe(broker_url)


# The loyalty service's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=MIGRATIONS, name="loyalty")


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
def service_ledger(service: Service) -> DatabaseLedger:
    """The running service's own ledger, as its composition root provides it."""
    return service.registry.get(DatabaseLedger)


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
