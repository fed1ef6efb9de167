from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from paved.testing import database_url_fixture

from payment_provider.app import create_service
from payment_provider.settings import ProviderSettings

from .values import Start

MIGRATIONS = Path(__file__).parents[2] / "migrations"
NAME = "payment-provider"

# The processor's own database, migrated: a SQLite file, and PostgreSQL as in production.
database_url = database_url_fixture(migrations=MIGRATIONS, name=NAME)


@pytest.fixture
def start(database_url: str) -> Start:
    """Starts the processor on the test's database with the settings given: call it again for a restart."""

    @asynccontextmanager
    async def started(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        # No broker: the processor sends and takes no messages, so its tests run with none.
        settings = ProviderSettings(database_url=database_url, **overrides)
        service = create_service(settings)
        async with service.running():
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://provider") as client:
                yield client

    return started


@pytest.fixture
async def client(start: Start) -> AsyncIterator[httpx.AsyncClient]:
    """The processor as configured by default: no latency, no failures, the test cards declined."""
    async with start() as client:
        yield client
