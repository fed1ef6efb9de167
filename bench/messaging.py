"""Issue 3 benchmark (first cut): events end to end through outbox, relay, JetStream and inbox, against
raw nats-py publish/consume on the same broker, in one run.

Run by `make bench`, or: .venv/bin/python bench/messaging.py [N]
Both sides of the paved path run in this one process (so they share one GIL): a pessimistic figure.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nats
from sqlalchemy import Column, Float, MetaData, String, Table, insert

from paved import Service, ServiceSettings
from paved.database import Database
from paved.messaging import Event, Handling, messaging_tables
from paved.platform.nats import start_nats


class Happened(Event, type="bench.Happened", version=1):
    n: str
    sent_at: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw(url: str, count: int) -> tuple[float, list[float]]:
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(name="RAW", subjects=["raw.>"])
    subscription = await js.pull_subscribe("raw.>", durable="raw-consumer", stream="RAW")
    latencies: list[float] = []
    started = time.perf_counter()

    async def consume() -> None:
        while len(latencies) < count:
            try:
                for msg in await subscription.fetch(200, timeout=1.0):
                    latencies.append(time.perf_counter() - float(msg.data))
                    await msg.ack()
            except TimeoutError:
                continue

    consumer = asyncio.create_task(consume())
    for start in range(0, count, 500):
        acks = [await js.publish_async("raw.happened", str(time.perf_counter()).encode()) for _ in range(start, min(count, start + 500))]
        await asyncio.gather(*acks)
    await consumer
    elapsed = time.perf_counter() - started
    await client.close()
    return count / elapsed, latencies


async def through_paved(url: str, folder: Path, count: int) -> tuple[float, list[float]]:
    producer_meta, consumer_meta = MetaData(), MetaData()
    producer_tables = messaging_tables(producer_meta)
    effects = Table("effects", consumer_meta, Column("n", String), Column("latency", Float))
    consumer_tables = messaging_tables(consumer_meta)
    urls = {name: f"sqlite+aiosqlite:///{folder}/{name}.db" for name in ("producer", "consumer")}
    for name, meta in (("producer", producer_meta), ("consumer", consumer_meta)):
        database = Database(urls[name])
        await database.start()
        async with database.engine.begin() as connection:
            await connection.run_sync(meta.create_all)
        await database.stop()
    producer = Service(name="producer", version="0", settings=ServiceSettings(database_url=urls["producer"], nats_url=url), messaging=producer_tables)
    consumer = Service(name="consumer", version="0", settings=ServiceSettings(database_url=urls["consumer"], nats_url=url), messaging=consumer_tables)
    assert producer.messaging and consumer.messaging
    producer.messaging.stream("BENCH", subjects=["bench.>"])
    handler = consumer.messaging.consumer("bench-consumer", stream="BENCH", subjects=["bench.>"], batch_size=200)
    latencies: list[float] = []
    done = asyncio.Event()

    @handler.handles(Happened)
    async def record(handling: Handling, event: Happened) -> None:
        latency = time.perf_counter() - event.sent_at
        await handling.session.execute(insert(effects).values(n=event.n, latency=latency))
        latencies.append(latency)
        if len(latencies) >= count:
            done.set()

    async with producer.running(), consumer.running():
        started = time.perf_counter()
        for n in range(count):
            async with producer.database.transaction() as session:
                await producer.messaging.outbox.put(session, Happened(n=str(n), sent_at=time.perf_counter()).envelope(), subject="bench.happened")
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
    return count / elapsed, latencies


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="paved-bench-msg-") as name:
        folder = Path(name)
        broker = start_nats(state_dir=folder / "nats", log_path=folder / "nats.log")
        try:
            raw_rate, raw_latency = await raw(broker.url, count)
            paved_rate, paved_latency = await through_paved(broker.url, folder, count)
        finally:
            broker.stop()
    print(f"| path | events/s | p50 | p99 |\n|---|---|---|---|")
    for label, rate, latency in (("raw nats-py publish/consume", raw_rate, raw_latency), ("paved: outbox → relay → JetStream → inbox (SQLite both sides)", paved_rate, paved_latency)):
        print(f"| {label} | {rate:.0f} | {percentile(latency, 0.5) * 1000:.1f} ms | {percentile(latency, 0.99) * 1000:.1f} ms |")
    print(f"| ratio paved / raw | {paved_rate / raw_rate:.3f} | | |")
    print(f"\n{count} events, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; as fast as the producer commits (max rate), not at half of it.")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
