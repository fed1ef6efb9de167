from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from paved import Service
from paved.testing import database_url_fixture
from pydantic import SecretStr

from identity.app import create_service
from identity.passwords import Argon2Passwords
from identity.settings import ClientSettings, IdentitySettings

from .values import ADMIN_EMAIL, ADMIN_PASSWORD, AUDIENCE, ISSUER, ORDER_SECRET, Running

MIGRATIONS = Path(__file__).parents[2] / "migrations"

# identity's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=MIGRATIONS, name="identity")


@pytest.fixture
def settings(database_url: str) -> IdentitySettings:
    # No broker: identity sends and takes no messages, so its tests run with none.
    return IdentitySettings(
        database_url=database_url,
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
    """identity's HTTP API with its real database, without a network hop."""
    async with running() as (_, client):
        yield client
