"""`paved sagas` over a choreography's saga view: list, show, stuck, retry."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from paved import Envelope, Service, ServiceSettings
from paved.messaging import Stream, messaging_tables
from paved.sagas import Milestone, SagaStore, SagaView, saga_tables
from paved.testing import BrokerProbe, create_tables
from sqlalchemy import MetaData

from paved_platform.nats import EmbeddedNats
from shop import eventually, publish

pytestmark = pytest.mark.nats

watcher_metadata = MetaData()
watcher_messaging = messaging_tables(watcher_metadata)
watcher_sagas = saga_tables(watcher_metadata)


def watcher(*, database_url: str, broker_url: str) -> Service:
    """A service that takes part in nothing and watches the fulfilment's events go by."""
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = Service(name="watcher", version="0", settings=settings, messaging=watcher_messaging)
    view = SagaView(
        "fulfilment",
        Milestone("order.OrderPlaced", "placed", starts=True),
        Milestone("warehouse.StockReserved", "stock_reserved"),
        Milestone("payment.PaymentTaken", "paid"),
        Milestone("payment.PaymentDeclined", "declined"),
        Milestone("warehouse.StockReleased", "released", final=True),
        Milestone("warehouse.OrderDispatched", "dispatched", final=True),
    )
    view.observe(
        service.messaging,
        tables=watcher_sagas,
        consumer="watcher-view",
        streams={"SHOP_EVENTS": ["shop.events.>"]},
    )
    return service


async def _event(broker_url: str, type_: str, order_id: str, at: datetime) -> None:
    envelope = Envelope(type=type_, correlation_id=order_id, occurred_at=at, data={"order_id": order_id})
    await publish(broker_url, f"shop.events.{type_}", envelope.to_bytes(), envelope=envelope)


@pytest.fixture(autouse=True)
async def shop_events(broker: EmbeddedNats) -> None:
    """The shop's events stream, as the services that publish there declare it (the watcher follows it)."""
    await BrokerProbe(broker.url).declare(Stream("SHOP_EVENTS", subjects=["shop.events.>"]))


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/watcher.db"
    await create_tables(url, watcher_metadata)
    return url


def test_paved_sagas_lists_shows_and_reports_the_stuck(database_url: str, broker: EmbeddedNats) -> None:
    """The CLI over a view's table: list, show, stuck, and a retry of a choreographed saga explains itself."""

    async def fill() -> None:
        async with watcher(database_url=database_url, broker_url=broker.url).running():
            await _event(
                broker.url,
                "order.OrderPlaced",
                "o-9",
                datetime.now(UTC) - timedelta(minutes=10),
            )
            async with SagaStore("watcher", database_url) as store:

                async def seen() -> bool:
                    return len(await store.list()) == 1

                assert await eventually(seen)

    asyncio.run(fill())
    where = ["--database-url", f"watcher={database_url}"]

    def paved(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "paved_platform", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    code, out = paved("sagas", "list", *where)
    assert code == 0 and "o-9" in out and "placed" in out, out
    code, out = paved("sagas", "show", "o-9", *where)
    assert code == 0 and "order.OrderPlaced" in out and "not finished" in out, out
    code, out = paved("sagas", "stuck", "--older-than", "60", *where)
    assert code == 0 and "o-9" in out, out
    code, out = paved("sagas", "stuck", "--older-than", "3600", *where)
    assert code == 0 and "no stuck sagas" in out, out
    code, out = paved("sagas", "retry", "o-9", *where)
    assert code == 1 and "paved dlq" in out, out
    code, out = paved("sagas", "show", "nope", *where)
    assert code == 1 and "no saga nope" in out, out
    code, out = paved("sagas", "list", "--database-url", "watcher")
    assert code == 2 and "SERVICE=URL" in out, out
