from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from paved import Service, ServiceSettings
from paved.testing import TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from customer.app import create_service

# The customer service's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=Path(__file__).parents[2] / "migrations", name="customer")


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    """The test's own token issuer: real signed access tokens, checked by the service's real verifier."""
    return TestTokens()


@pytest.fixture
async def service(database_url: str, broker_url: str, tokens: TestTokens) -> AsyncIterator[Service]:
    """The customer service, running with its real database and broker."""
    service = create_service(ServiceSettings(database_url=database_url, broker_url=broker_url))
    tokens.install(service.app)
    async with service.running():
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The customer service's HTTP API, without a network hop."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer") as client:
        yield client


@pytest.fixture
def ann(tokens: TestTokens) -> dict[str, str]:
    """Ann's own access token, as identity issues it to a customer."""
    return tokens.bearer("acc_ann", "customer")


@pytest.fixture
def bob(tokens: TestTokens) -> dict[str, str]:
    return tokens.bearer("acc_bob", "customer")
