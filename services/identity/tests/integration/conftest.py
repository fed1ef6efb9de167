from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from paved import Service
from paved.migrations import upgrade
from paved.testing import postgres_database, postgres_is_reachable
from paved_platform.testing import running_nats
from pydantic import SecretStr

from identity.app import create_service
from identity.passwords import Argon2Passwords
from identity.settings import ClientSettings, IdentitySettings

from .values import ADMIN_EMAIL, ADMIN_PASSWORD, AUDIENCE, ISSUER, ORDER_SECRET, Running

MIGRATIONS = Path(__file__).parents[2] / "migrations"


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """identity's own database, migrated: a SQLite file, and PostgreSQL as in production."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url
        return
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
    async with postgres_database("identity_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=MIGRATIONS, database_url=url)
        yield url


@pytest.fixture
def settings(database_url: str, broker_url: str) -> IdentitySettings:
    return IdentitySettings(
        database_url=database_url,
        broker_url=broker_url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        identity_admin_email=ADMIN_EMAIL,
        identity_admin_password=SecretStr(ADMIN_PASSWORD),
        token_clients={
            "order": ClientSettings(secret=SecretStr(ORDER_SECRET), scopes=["catalog:read", "stock:reserve"])
        },
    )




@pytest.fixture
def running(settings: IdentitySettings) -> Running:
    """Starts identity on the test's database, as a process start would: call it again for a restart."""

    @asynccontextmanager
    async def start() -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
        # Real Argon2 with the cheapest parameters: the hashing is real, the tests stay fast.
        passwords = Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        service = create_service(settings, passwords=passwords)
        async with service.running():
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
                yield service, client

    return start


@pytest.fixture
async def client(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    """identity's HTTP API with its real database and broker, without a network hop."""
    async with running() as (_, client):
        yield client
