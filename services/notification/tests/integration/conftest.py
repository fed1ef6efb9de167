from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from paved import Service
from paved.testing import BrokerProbe, TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from notification.app import create_service
from notification.settings import NotificationSettings
from notification.store import DatabaseUnitOfWork
from notification.use_cases import Notifications

from ..unit.fakes import FakeMailer
from .order_contract import ORDER_EVENTS

MIGRATIONS = Path(__file__).parents[2] / "migrations"

database_url = database_url_fixture(migrations=MIGRATIONS, name="notification")
"""notification's own database, migrated: a SQLite file, and PostgreSQL as in production."""


@pytest.fixture
async def broker_url() -> AsyncIterator[str]:
    """A JetStream server of the test's own (durable consumers would otherwise outlive each test's database),
    with order's stream declared as order declares it."""
    with running_nats() as url:
        await BrokerProbe(url).declare(ORDER_EVENTS)
        yield url


@pytest.fixture
def probe(broker_url: str) -> BrokerProbe:
    """The broker as order and an operator see it: publishes order's events, reads the dead letters."""
    return BrokerProbe(broker_url)


@pytest.fixture
def settings(database_url: str, broker_url: str) -> NotificationSettings:
    return NotificationSettings(
        database_url=database_url,
        broker_url=broker_url,
        notification_send_interval_seconds=0.05,
        notification_first_retry_seconds=0.1,
        notification_send_timeout_seconds=1.0,
        notification_claim_seconds=2.0,
    )


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    """The test's own token issuer: real signed access tokens, checked by the service's real verifier."""
    return TestTokens()


@pytest.fixture
def mailer() -> FakeMailer:
    """The outgoing edge, replaced: what the service would hand to a mail server."""
    return FakeMailer()


@pytest.fixture
def built(settings: NotificationSettings, mailer: FakeMailer, tokens: TestTokens) -> Service:
    """The notification service, built but not started, without its background sender: the tests send with
    ``Notifications.send_due`` when they mean to."""
    service = create_service(settings, mailer=mailer, sending=False)
    tokens.install(service.app)
    return service


@pytest.fixture
async def service(built: Service) -> AsyncIterator[Service]:
    """notification with its real database and broker, its consumer taking order's events."""
    async with built.running():
        yield built


@pytest.fixture
def notifications(service: Service) -> Notifications:
    """The running service's use cases, as its endpoints and handlers get them."""
    return service.registry.get(Notifications)


@pytest.fixture
def uow(service: Service) -> DatabaseUnitOfWork:
    """notification's store in the running service's database."""
    return DatabaseUnitOfWork(service.database)


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """notification's HTTP API, without a network hop."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
        yield client


@pytest.fixture
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_admin", "admin")
