"""The saga view of a choreography, on a real JetStream broker (`paved sagas` over it: paved-platform's tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from paved_platform.nats import EmbeddedNats
from sqlalchemy import MetaData, insert

from paved import Service, ServiceSettings
from paved._envelope import Envelope
from paved.messaging import Stream, messaging_tables
from paved.sagas import Milestone, SagaView, saga_tables
from paved.sagas._inspection import SagaStore
from paved.testing import BrokerProbe, create_tables
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
        service.messaging, tables=watcher_sagas, consumer="watcher-view", streams={"SHOP_EVENTS": ["shop.events.>"]}
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


async def test_the_view_assembles_each_process_from_its_events(broker: EmbeddedNats, database_url: str) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    async with watcher(database_url=database_url, broker_url=broker.url).running():
        # o-1 goes all the way; its payment is seen before its reservation, as happens across streams.
        await _event(broker.url, "order.OrderPlaced", "o-1", start)
        await _event(broker.url, "payment.PaymentTaken", "o-1", start + timedelta(seconds=2))
        await _event(broker.url, "warehouse.StockReserved", "o-1", start + timedelta(seconds=1))
        await _event(broker.url, "loyalty.PointsAwarded", "o-1", start + timedelta(seconds=3))
        await _event(broker.url, "warehouse.OrderDispatched", "o-1", start + timedelta(seconds=4))
        # o-2 is declined and released; o-3 stops after its reservation; o-4's start was never seen.
        await _event(broker.url, "order.OrderPlaced", "o-2", start)
        await _event(broker.url, "warehouse.StockReserved", "o-2", start + timedelta(seconds=1))
        await _event(broker.url, "payment.PaymentDeclined", "o-2", start + timedelta(seconds=2))
        await _event(broker.url, "warehouse.StockReleased", "o-2", start + timedelta(seconds=3))
        await _event(broker.url, "order.OrderPlaced", "o-3", start)
        await _event(broker.url, "warehouse.StockReserved", "o-3", start + timedelta(seconds=1))
        await _event(broker.url, "warehouse.StockReserved", "o-4", start + timedelta(seconds=1))
        # o-6: a milestone that happened after the final one is seen before it; the final one still ends it.
        await _event(broker.url, "order.OrderPlaced", "o-6", start)
        await _event(broker.url, "payment.PaymentTaken", "o-6", start + timedelta(seconds=5))
        await _event(broker.url, "warehouse.OrderDispatched", "o-6", start + timedelta(seconds=4))

        async with SagaStore("watcher", database_url) as store:

            async def all_seen() -> bool:
                shown = await store.show("o-1")
                six = await store.show("o-6")
                return shown is not None and len(shown[1]) == 5 and six is not None and len(six[1]) == 3

            assert await eventually(all_seen)
            states = {s.id: (s.state, s.finished) for s in await store.list()}
            assert states == {
                "o-1": ("dispatched", True),
                "o-2": ("released", True),
                "o-3": ("stock_reserved", False),
                "o-4": ("stock_reserved", False),
                "o-6": ("dispatched", True),
            }
            summary, timeline = await store.show("o-1")  # type: ignore[misc]
            assert summary.style == "choreographed"
            # The timeline is in the order things happened, not the order they arrived in.
            assert [e.step for e in timeline] == [
                "order.OrderPlaced",
                "warehouse.StockReserved",
                "payment.PaymentTaken",
                "loyalty.PointsAwarded",
                "warehouse.OrderDispatched",
            ]
            assert timeline[3].outcome == "seen"  # not a milestone: kept in the timeline only
            stuck = {s.id: s.reason for s in await store.list(stuck_after=timedelta(minutes=1))}
            assert stuck == {"o-3": None, "o-4": "its starting event has not been seen"}
            assert await store.list(stuck_after=timedelta(hours=1)) == []

            # A final milestone is not left, even for an event that happened later.
            await _event(broker.url, "payment.PaymentTaken", "o-2", start + timedelta(seconds=9))

            async def recorded() -> bool:
                shown = await store.show("o-2")
                return shown is not None and len(shown[1]) == 5

            assert await eventually(recorded)
            assert {s.id: s.state for s in await store.list()}["o-2"] == "released"


async def test_the_view_leaves_other_sagas_processes_alone_and_starts_none_for_unrelated_events(
    broker: EmbeddedNats, database_url: str
) -> None:
    """An orchestrated saga's id (same database) keeps its own timeline; a restock starts no process."""
    service = watcher(database_url=database_url, broker_url=broker.url)
    async with service.running():
        async with service.database.transaction() as session:
            now = datetime.now(UTC)
            await session.execute(
                insert(watcher_sagas.sagas).values(
                    id="o-orch",
                    saga="fulfilment-orchestrated",
                    style="orchestrated",
                    state="running",
                    step="reserve",
                    step_index=0,
                    attempt=1,
                    cancel_requested=False,
                    needs_attention=False,
                    data={},
                    started_at=now,
                    updated_at=now,
                )
            )
        await _event(broker.url, "warehouse.StockReserved", "o-orch", now)
        await _event(broker.url, "warehouse.StockReceived", "restock-1", now)
        await _event(broker.url, "order.OrderPlaced", "o-5", now)
        async with SagaStore("watcher", database_url) as store:

            async def seen() -> bool:
                return await store.show("o-5") is not None

            assert await eventually(seen)
            assert {s.id: s.saga for s in await store.list()} == {
                "o-orch": "fulfilment-orchestrated",
                "o-5": "fulfilment",
            }
            orchestrated = await store.show("o-orch")
            assert orchestrated is not None and orchestrated[1] == []  # nothing of the view's in its timeline
