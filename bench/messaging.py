"""Issue 3 benchmark: events end to end through outbox, relay, JetStream and inbox, against raw nats-py
publish/consume on the same broker, in one run; SQLite and PostgreSQL; at the maximum rate and at half of it.

Run by `make bench`, or: .venv/bin/python bench/messaging.py [EVENTS]

Producer and consumer are separate processes, as two services would be (this script, with a role
argument). A producer writes one event per transaction (a state change and its event, as a service
does), as fast as it can or paced to a rate. Latency is from the producer's timestamp in the event to the
commit of the consumer's transaction that holds its effect (raw: to the consumer's ack).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import nats
from paved import Service, ServiceSettings
from paved.messaging import Event, Handling, Stream, messaging_tables
from paved.testing import create_tables, postgres_database, postgres_is_reachable
from paved_platform.nats import start_nats
from sqlalchemy import Column, Float, MetaData, String, Table, event, insert
from sqlalchemy.orm import Session

HERE = Path(__file__).resolve()
SUBJECT = "bench.happened"
# One event per transaction is a service's usual unit of work; 20 is a unit of work that emits many
# (an import, a batch job), or the backlog after an outage: what the relay and consumer can carry.
PER_TRANSACTION = (1, 20)


class Happened(Event, type="bench.Happened", version=1, subject=SUBJECT):
    n: int
    sent_at: float


producer_metadata, consumer_metadata = MetaData(), MetaData()
producer_messaging = messaging_tables(producer_metadata)
consumer_messaging = messaging_tables(consumer_metadata)
effects = Table("effects", consumer_metadata, Column("n", String), Column("sent_at", Float))
insert_effect = insert(effects)  # built once, as a service's hot path would


BENCH = Stream("BENCH", subjects=["bench.>"])


def service(name: str, tables: Any, database_url: str, broker_url: str) -> Service:
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    return Service(name=name, version="0", settings=settings, messaging=tables)


async def paced(count: int, rate: float | None) -> Any:
    """Yields 0..count-1, each at its time when a rate is given, else as fast as asked."""
    started = time.perf_counter()
    for n in range(count):
        if rate:
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        yield n


# --- the paved path: two services -------------------------------------------------------------------


async def produce(broker_url: str, database_url: str, count: int, rate: float | None) -> None:
    producer = service("bench", producer_messaging, database_url, broker_url)
    producer.messaging.own(BENCH)
    outbox = producer.messaging.outbox
    per_transaction = int(os.environ.get("BENCH_PER_TRANSACTION", "1"))
    async with producer.running():
        async for n in paced(count // per_transaction, rate and rate / per_transaction):
            async with producer.database.transaction() as session:
                for k in range(per_transaction):
                    happened = Happened(n=n * per_transaction + k, sent_at=time.time())
                    await outbox.put(session, happened)
        while await outbox.pending():
            await asyncio.sleep(0.05)


async def consume(broker_url: str, database_url: str, count: int, report: Path) -> None:
    consumer = service("bench-consumer", consumer_messaging, database_url, broker_url)
    bench = consumer.messaging.follow(BENCH.name)
    handler = consumer.messaging.consumer("bench-consumer", stream=bench, subjects=BENCH.subjects, batch_size=500)
    latencies: list[float] = []
    first_sent = [float("inf")]
    done = asyncio.Event()

    def committed(session: Session) -> None:  # the effect counts from its commit, not its handler
        now = time.time()
        sent = session.info.pop("bench", [])
        first_sent[0] = min(first_sent[0], *sent)
        latencies.extend(now - sent_at for sent_at in sent)
        if len(latencies) >= count:
            done.set()

    @handler.handles(Happened)
    async def record(handling: Handling, happened: Happened) -> None:
        await handling.session.execute(insert_effect, {"n": str(happened.n), "sent_at": happened.sent_at})
        if "bench" not in handling.session.info:
            handling.session.info["bench"] = []
            event.listen(handling.session.sync_session, "after_commit", committed, once=True)
        handling.session.info["bench"].append(happened.sent_at)

    async with consumer.running():
        report.with_suffix(".ready").touch()
        await asyncio.wait_for(done.wait(), timeout=900)
        finished = time.time()
    report.write_text(json.dumps({"latencies": latencies, "first_sent": first_sent[0], "finished": finished}))


# --- the peer: raw nats-py ---------------------------------------------------------------------------


async def raw_produce(broker_url: str, _: str, count: int, rate: float | None) -> None:
    client = await nats.connect(broker_url)
    js = client.jetstream()
    acks = []
    async for _n in paced(count, rate):
        acks.append(await js.publish_async(SUBJECT, str(time.time()).encode()))
        if len(acks) >= 500:
            await asyncio.gather(*acks)
            acks.clear()
    await asyncio.gather(*acks)
    await client.close()


async def raw_consume(broker_url: str, _: str, count: int, report: Path) -> None:
    client = await nats.connect(broker_url)
    js = client.jetstream()
    await js.add_stream(name="BENCH", subjects=["bench.>"])
    subscription = await js.pull_subscribe("bench.>", durable="raw-consumer", stream="BENCH")
    report.with_suffix(".ready").touch()
    latencies: list[float] = []
    first_sent = float("inf")
    while len(latencies) < count:
        try:
            for msg in await subscription.fetch(500, timeout=1.0):
                await msg.ack()
                sent_at = float(msg.data)
                first_sent = min(first_sent, sent_at)
                latencies.append(time.time() - sent_at)
        except TimeoutError:
            continue
    finished = time.time()
    report.write_text(json.dumps({"latencies": latencies, "first_sent": first_sent, "finished": finished}))
    await client.close()


ROLES = {"produce": produce, "consume": consume, "raw-produce": raw_produce, "raw-consume": raw_consume}


# --- the run -----------------------------------------------------------------------------------------


def run_once(
    kind: str,
    broker_url: str,
    urls: tuple[str, str],
    count: int,
    rate: float | None,
    folder: Path,
    per_transaction: int,
) -> dict[str, float]:
    """One producer and one consumer process; the figures of what the consumer saw."""
    report = folder / f"{kind}-{time.monotonic_ns()}.json"
    prefix = "raw-" if kind == "raw" else ""
    # BENCH_PROFILE=DIR writes a cProfile of each consumer there (where the time goes, for bench/README.md).
    profile = (
        ["-m", "cProfile", "-o", f"{os.environ['BENCH_PROFILE']}/{report.stem}.prof"]
        if os.environ.get("BENCH_PROFILE")
        else []
    )
    consumer = subprocess.Popen(
        [sys.executable, *profile, str(HERE), f"{prefix}consume", broker_url, urls[1], str(count), str(report)]
    )
    while not report.with_suffix(".ready").exists():
        if consumer.poll() is not None:
            raise SystemExit(f"the {kind} consumer exited with {consumer.returncode}")
        time.sleep(0.05)
    producer = subprocess.Popen(
        [sys.executable, str(HERE), f"{prefix}produce", broker_url, urls[0], str(count), str(rate or 0)],
        env=os.environ | {"BENCH_PER_TRANSACTION": str(per_transaction)},
    )
    if consumer.wait(timeout=900) or producer.wait(timeout=60):
        raise SystemExit(f"the {kind} run failed: consumer {consumer.returncode}, producer {producer.returncode}")
    result = json.loads(report.read_text())
    latencies = sorted(result["latencies"])
    return {
        # From the first event's timestamp, so neither process's start-up counts.
        "rate": count / (result["finished"] - result["first_sent"]),
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
    }


@asynccontextmanager
async def databases(kind: str, folder: Path, run: int) -> AsyncIterator[tuple[str, str]]:
    """The producer's and the consumer's databases, with their tables (none for the raw peer)."""
    async with AsyncExitStack() as stack:
        if kind == "raw":
            yield "", ""
            return
        if kind == "sqlite":
            urls = tuple(f"sqlite+aiosqlite:///{folder}/{side}-{run}.db" for side in ("producer", "consumer"))
        else:  # each service its own role and database, as in production
            urls = (
                await stack.enter_async_context(postgres_database("bench_producer")),
                await stack.enter_async_context(postgres_database("bench_consumer")),
            )
        await create_tables(urls[0], producer_metadata)
        await create_tables(urls[1], consumer_metadata)
        yield urls


async def main(count: int) -> None:
    backends = ["sqlite"] + (["postgresql"] if await postgres_is_reachable() else [])
    rows: list[tuple[str, int, str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="paved-bench-msg-") as name:
        folder = Path(name)
        runs = 0
        paths = [("raw", 1)] + [(backend, n) for backend in backends for n in PER_TRANSACTION]
        for kind, per_transaction in paths:
            # Each path on a new broker (its stream starts empty), at full speed and then at half of it.
            broker = start_nats(state_dir=folder / f"nats-{runs}", log_path=folder / f"nats-{runs}.log")
            try:
                full: dict[str, float] | None = None
                for label in ("max", "half"):
                    runs += 1
                    async with databases(kind, folder, runs) as urls:
                        rate = None if full is None else full["rate"] / 2
                        events = count if full is None else count // 2
                        figures = run_once(kind, broker.url, urls, events, rate, folder, per_transaction)
                    full = full or figures
                    rows.append((kind, per_transaction, label, figures))
                    print(kind, per_transaction, label, {k: round(v, 1) for k, v in figures.items()}, flush=True)
            finally:
                broker.stop()
    raw = {label: figures for kind, _, label, figures in rows if kind == "raw"}
    lines = [
        f"### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {count:,} events",
        "",
        "| path | events per transaction | rate | events/s | ratio to raw | p50 | p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {
        "raw": "raw nats-py publish/consume",
        "sqlite": "paved, SQLite both sides",
        "postgresql": "paved, PostgreSQL both sides",
    }
    for kind, per_transaction, label, figures in rows:
        ratio = figures["rate"] / raw[label]["rate"]
        rate = "maximum" if label == "max" else "half of its maximum"
        per = "" if kind == "raw" else per_transaction
        lines.append(
            f"| {names[kind]} | {per} | {rate} | {figures['rate']:,.0f} | {ratio:.2f} "
            f"| {figures['p50']:.1f} ms | {figures['p99']:.1f} ms |"
        )
    report = "\n".join(lines) + "\n"
    out = HERE.parent / "results" / f"{time.strftime('%Y-%m-%d-%H%M', time.gmtime())}-messaging.md"
    out.write_text(report)
    print(f"\n{report}\nwritten to {out.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        role, broker_url, database_url, count, last = sys.argv[1:6]
        argument: Any = Path(last) if role.endswith("consume") else (float(last) or None)
        asyncio.run(ROLES[role](broker_url, database_url, int(count), argument))
    else:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
