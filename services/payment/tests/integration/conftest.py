from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from paved.messaging import Stream
from paved.testing import BrokerProbe, TestTokens, database_url_fixture
from paved_platform.testing import running_nats

from .asker import OrdersSide
from .processes import ProviderProcess
from .values import Running, Start, payment_settings, serving

MIGRATIONS = Path(__file__).parents[2] / "migrations"


# The streams of the partners payment follows, as their owners (the warehouse and order) declare them.
PARTNERS_STREAMS = (
    Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"]),
    Stream("ORDER_EVENTS", subjects=["order.events.>"]),
)


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """A JetStream server for the session, with the partners' streams declared as their owners would."""
    with running_nats() as url:
        asyncio.run(BrokerProbe(url).declare(*PARTNERS_STREAMS))
        yield url


@pytest.fixture
def probe(broker_url: str) -> BrokerProbe:
    """The broker as another service sees it: to publish as a partner, and read what payment published."""
    return BrokerProbe(broker_url)


@pytest.fixture(scope="session")
def provider_template(tmp_path_factory: pytest.TempPathFactory, broker_url: str) -> Path:
    """A payment-provider database, migrated once: each provider of a test starts from a copy."""
    folder = tmp_path_factory.mktemp("provider-template")
    ProviderProcess(folder, broker_url=broker_url).migrate()
    return folder / "provider.db"


@pytest.fixture(scope="session")
def provider(
    tmp_path_factory: pytest.TempPathFactory, broker_url: str, provider_template: Path
) -> Iterator[ProviderProcess]:
    """The payment-provider as configured by default (no failures, the test cards declined), shared by the tests."""
    process = ProviderProcess(tmp_path_factory.mktemp("provider"), broker_url=broker_url)
    process.migrate(template=provider_template)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def own_provider(tmp_path: Path, broker_url: str, provider_template: Path) -> Iterator[ProviderProcess]:
    """A payment-provider of the test's own, to start misbehaving, stop and restart at will."""
    folder = tmp_path / "provider"
    folder.mkdir()
    process = ProviderProcess(folder, broker_url=broker_url)
    process.migrate(template=provider_template)
    yield process
    process.stop()


database_url = database_url_fixture(migrations=MIGRATIONS, name="payment")
"""The payment service's own database, migrated: a SQLite file, and PostgreSQL as in production."""


@pytest.fixture
async def orders(tmp_path: Path, broker_url: str) -> AsyncIterator[OrdersSide]:
    """The order service's side of the conversation: sends commands, keeps the replies."""
    side = OrdersSide(database_url=f"sqlite+aiosqlite:///{tmp_path}/orders.db", broker_url=broker_url)
    await side.create_tables()
    async with side.service.running():
        yield side


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
def start(database_url: str, broker_url: str, tokens: TestTokens) -> Start:
    """Starts the payment service on the test's database, calling ``provider_url``: call it again for a restart."""

    def started(provider_url: str, **overrides: object) -> AbstractAsyncContextManager[Running]:
        settings = payment_settings(
            database_url=database_url, broker_url=broker_url, provider_url=provider_url, **overrides
        )
        return serving(settings, tokens)

    return started
