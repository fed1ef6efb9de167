from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from paved_platform.nats import start_nats
from paved_platform.testing import running_nats
from sqlalchemy import MetaData, text

from paved import Service, ServiceSettings
from paved.messaging import messaging_tables

pytestmark = pytest.mark.nats


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    with running_nats() as url:
        yield url


def make_service(tmp_path: Path, broker_url: str) -> Service:
    """A service that uses a database and the broker (it has messaging tables)."""
    settings = ServiceSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/svc.db", broker_url=broker_url)
    return Service(name="probe", version="1.2.3", settings=settings, messaging=messaging_tables(MetaData()))


async def ready_checks(service: Service) -> tuple[int, dict[str, str]]:
    async with service.running():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/health/ready")
    return ready.status_code, ready.json()["checks"]


async def test_a_service_is_ready_on_what_it_uses_only(tmp_path: Path) -> None:
    """A service without messaging needs no broker (none answers here), and one without a database no database."""
    nowhere = "nats://127.0.0.1:9"  # nothing listens on the discard port
    settings = ServiceSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/svc.db", broker_url=nowhere)
    assert await ready_checks(Service(name="probe", version="1", settings=settings)) == (200, {"database": "up"})
    bff = Service(name="bff", version="1", settings=settings, database=False)
    assert await ready_checks(bff) == (200, {})
    with pytest.raises(RuntimeError, match="without a database"):
        _ = bff.database
    with pytest.raises(RuntimeError, match="without messaging"):
        _ = bff.messaging


async def test_ready_when_database_and_broker_answer(tmp_path: Path, broker_url: str) -> None:
    """/health/ready is 200 once the real database and broker answer; /health/live always."""
    service = make_service(tmp_path, broker_url)
    async with service.running():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/health/ready")
            live = await client.get("/health/live")
            metrics = await client.get("/metrics")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "up", "broker": "up"}
    assert live.json() == {"status": "live"}
    assert 'service_info{service="probe",version="1.2.3"}' in metrics.text


async def wait_for_status(client: httpx.AsyncClient, status: int) -> httpx.Response:
    for _ in range(100):
        response = await client.get("/health/ready")
        if response.status_code == status:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"/health/ready never answered {status}")


async def test_readiness_follows_the_broker_down_and_back(tmp_path: Path) -> None:
    """Losing the broker makes readiness a 503 naming it; the service reconnects when it returns."""
    nats_server = start_nats(state_dir=tmp_path, log_path=tmp_path / "nats.log")
    port = int(nats_server.url.rsplit(":", 1)[1])
    service = make_service(tmp_path, nats_server.url)
    try:
        async with service.running():
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                await wait_for_status(client, 200)
                nats_server.stop()
                down = await wait_for_status(client, 503)
                nats_server = start_nats(state_dir=tmp_path, log_path=tmp_path / "nats.log", port=port)
                await wait_for_status(client, 200)
    finally:
        nats_server.stop()
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["checks"] == {"database": "up", "broker": "down"}
    assert "broker" in down.json()["detail"]


async def test_the_database_transaction_commits_or_rolls_back(tmp_path: Path, broker_url: str) -> None:
    """A block that raises leaves nothing behind; one that ends is committed."""
    service = make_service(tmp_path, broker_url)
    async with service.running():
        async with service.database.transaction() as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
        with pytest.raises(RuntimeError):
            async with service.database.transaction() as session:
                await session.execute(text("INSERT INTO notes VALUES ('lost')"))
                raise RuntimeError("abort")
        async with service.database.transaction() as session:
            await session.execute(text("INSERT INTO notes VALUES ('kept')"))
        async with service.database.transaction() as session:
            rows = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
    assert rows == ["kept"]
    assert mode == "wal"


async def test_stop_steps_run_in_reverse_with_the_database_still_up_and_a_failure_stops_none(
    tmp_path: Path, broker_url: str
) -> None:
    """on_stop steps run once at stop, last registered first, while the database still answers; one that
    raises is logged and the others still run (a client left open is a leak, not a reason to hang)."""
    service = make_service(tmp_path, broker_url)
    ran: list[str] = []

    async def close_first_client() -> None:
        async with service.database.read() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
        ran.append("first")

    async def fail() -> None:
        ran.append("failing")
        raise RuntimeError("cannot close")

    async def close_second_client() -> None:
        ran.append("second")

    for step in (close_first_client, fail, close_second_client):
        service.on_stop(step)
    async with service.running():
        assert ran == []
    assert ran == ["second", "failing", "first"]


async def test_start_steps_run_with_the_database_up_before_anything_is_served(tmp_path: Path, broker_url: str) -> None:
    """A step given to on_start runs once per start, after the database is up and before the block runs."""
    service = make_service(tmp_path, broker_url)
    ran: list[int] = []

    async def make_table() -> None:
        async with service.database.transaction() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS keys (id INTEGER)"))
            await session.execute(text("INSERT INTO keys VALUES (1)"))
        ran.append(1)

    service.on_start(make_table)
    assert ran == []  # nothing runs when the service is built
    async with service.running():
        assert ran == [1]
        async with service.database.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM keys"))).scalar_one() == 1
