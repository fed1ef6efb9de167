"""Consumers' bulkheads, on a real broker: a consumer handles at most ``concurrency`` messages at once,
and a slow one takes none of another consumer's turns. On PostgreSQL: on SQLite a service has one writer,
so handlers (each in a transaction) take turns whatever the consumer's concurrency."""

from __future__ import annotations

import asyncio

import pytest
from paved_platform.testing import TestBroker
from sqlalchemy import MetaData

from paved import Service, ServiceSettings
from paved.messaging import Event, Handling, Stream, messaging_tables
from paved.testing import create_tables, eventually, postgres_database

TRACKS = Stream("TRACKS", subjects=["tracks.events.>"])


class TrackEncoded(Event, type="tracks.TrackEncoded", version=1):  # slow to handle
    track_id: str


class TrackTagged(Event, type="tracks.TrackTagged", version=1):  # quick
    track_id: str


metadata = MetaData()
tables = messaging_tables(metadata)


@pytest.mark.postgres
async def test_a_slow_consumer_runs_at_most_its_concurrency_and_does_not_hold_up_another(
    any_broker: TestBroker,
) -> None:
    async with postgres_database("bulkheads") as database_url:
        await create_tables(database_url, metadata)
        await _run_the_consumers(database_url, any_broker)


async def _run_the_consumers(database_url: str, any_broker: TestBroker) -> None:
    service = Service(
        name="tracks",
        version="0",
        settings=ServiceSettings(database_url=database_url, broker_url=any_broker.url),
        messaging=tables,
    )
    stream = service.messaging.own(TRACKS)
    slow = service.messaging.consumer("tracks-encoding", stream=stream, concurrency=3, batch_size=1)
    quick = service.messaging.consumer("tracks-tagging", stream=stream)
    in_flight, most_at_once = 0, 0
    encoded: list[str] = []
    tagged: list[str] = []

    @slow.handles(TrackEncoded)
    async def encode(handling: Handling, event: TrackEncoded) -> None:
        nonlocal in_flight, most_at_once
        in_flight += 1
        most_at_once = max(most_at_once, in_flight)
        try:
            await asyncio.sleep(2.0)  # e.g. waiting for a slow upstream, outside the database
        finally:
            in_flight -= 1
        encoded.append(event.track_id)

    @quick.handles(TrackTagged)
    async def tag(handling: Handling, event: TrackTagged) -> None:
        tagged.append(event.track_id)

    async with service.running():
        async with service.database.transaction() as session:
            for n in range(6):
                await service.messaging.outbox.put(session, TrackEncoded(track_id=f"t{n}"))
            for n in range(5):
                await service.messaging.outbox.put(session, TrackTagged(track_id=f"t{n}"))

        async def all_tagged() -> bool:
            return len(tagged) == 5

        assert await eventually(all_tagged, timeout=10)
        assert len(encoded) < 6, "the quick consumer did not wait for the slow one's work (4 s at best)"

        async def all_encoded() -> bool:
            return len(encoded) == 6

        assert await eventually(all_encoded, timeout=20)
    assert most_at_once == 3, "three handlers at once: the consumer's bulkhead, and all of it used"
