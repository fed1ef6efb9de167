from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from paved import Service
from paved_platform.testing import running_nats

from web_bff.app import create_service
from web_bff.settings import DOWNSTREAM_SERVICES, WebBffSettings

from .edges import TOKENS
from .musiccorp import ANN, BOB, MusicCorp


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    # paved's Service connects to a broker as it starts, even one that sends and consumes nothing.
    with running_nats() as url:
        yield url


@pytest.fixture
def musiccorp() -> MusicCorp:
    """Every service the BFF calls, faked at the outgoing edge; a test makes them slow, down or failing."""
    return MusicCorp()


@pytest.fixture
def settings(broker_url: str, tmp_path: Path) -> WebBffSettings:
    urls: dict[str, Any] = {f"{name}_url": f"http://{name}.test" for name in DOWNSTREAM_SERVICES}
    # A shorter checkout deadline than the 10 s default, so that the test of it waits less.
    return WebBffSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/web-bff.db",
        broker_url=broker_url,
        web_bff_checkout_timeout_seconds=1.5,
        **urls,
    )


@pytest.fixture
async def service(settings: WebBffSettings, musiccorp: MusicCorp) -> AsyncIterator[Service]:
    """The BFF as `paved serve` runs it (the app's whole lifespan), its calls going to the fakes."""
    service = create_service(settings, transports=musiccorp.transports())
    TOKENS.install(service.app)
    async with service.app.router.lifespan_context(service.app):
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF's HTTP API without a network hop."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app), base_url="http://web-bff.test"
    ) as client:
        yield client


@pytest.fixture
def ann() -> dict[str, str]:
    return TOKENS.bearer(ANN, "customer")


@pytest.fixture
def bob() -> dict[str, str]:
    return TOKENS.bearer(BOB, "customer")
