from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import Service
from paved.migrations import upgrade
from paved.testing import TestTokens, create_tables, postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats

from notification.app import create_service
from notification.settings import NotificationSettings
from notification.store import DatabaseUnitOfWork

from ..unit.fakes import FakeMailer
from . import order_publisher

MIGRATIONS = Path(__file__).parents[2] / "migrations"


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A JetStream server of the test's own: durable consumers would otherwise outlive each test's database."""
    with running_nats() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """notification's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/notification.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("notification_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


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
    """The notification service, built but not started."""
    service = create_service(settings, mailer=mailer)
    tokens.install(service.app)
    return service


@pytest.fixture
async def service(built: Service) -> AsyncIterator[Service]:
    """notification with its real database and broker, its consumer taking order's events.

    ``Service.running()`` is paved's part only: the sender loop does not run, and tests send with
    ``service.app.state.sender`` when they mean to.
    """
    async with built.running():
        yield built


@pytest.fixture
def uow(service: Service) -> DatabaseUnitOfWork:
    return service.app.state.uow  # type: ignore[no-any-return]


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """notification's HTTP API, without a network hop."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
        yield client


@pytest.fixture
async def publisher(tmp_path: Path, broker_url: str) -> AsyncIterator[Service]:
    """A stand-in for order, publishing order's events through paved's outbox on its own database."""
    url = f"sqlite+aiosqlite:///{tmp_path}/order-stand-in.sqlite"
    await create_tables(url, order_publisher.metadata)
    service = order_publisher.order_publisher(database_url=url, broker_url=broker_url)
    async with service.running():
        yield service


@pytest.fixture
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_admin", "admin")
