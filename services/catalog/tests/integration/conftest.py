from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import ServiceSettings
from paved.testing import TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from catalog.app import create_service

TOKENS = TestTokens()  # the test's own token issuer, standing in for identity

# The catalog's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=Path(__file__).parents[2] / "migrations", name="catalog")


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
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
