"""The saga's floor: the orchestrated fulfilment saga of bench/sagas.py, written as bare as Python allows.

Run: .venv/bin/python bench/saga_floor.py [--orders 1000] [--concurrency 32] [--seconds 10] [--warm-up 100]
(interpreter: the repository's .venv/bin/python, which has fastapi, uvicorn with uvloop and httptools, httpx,
nats-py, psutil and the nats-server binary; every process below runs on it, as `--role NAME` of this file).

It is the peer of the real shop's saga: the same conversation between the same processes, with nothing else
(no database, no outbox or inbox, no validation models, no auth, no logging), so that its maximum rate bounds
what an implementation of this shape in Python reaches on this machine. Per order:

- client -> order `POST /orders` (kept-alive httpx); order -> catalog `GET /albums/{sku}` and -> customer
  `GET /customers/{c}/addresses/{a}` in parallel; order publishes `order.events.order-placed` and the
  command `warehouse.commands.reserve-stock`, waits for both JetStream acks, then answers 201.
- Saga: ReserveStock (warehouse) -> TakePayment (payment, which first calls payment-provider `POST /charges`)
  -> AwardPoints (loyalty) -> DispatchOrder (warehouse). Each partner replies on `order.replies` and publishes
  one event of its own; order keeps each order's saga state in a dict and, after the 4th reply, publishes
  `order.events.order-dispatched`, which is when the client counts the order complete.
- The shop's other deliveries, as consumers that only ack (see CONSUMERS): 14 messages published to
  JetStream and 23 deliveries to durable consumers per order, both checked against the broker's own counts
  at the end of the run.

Choices that affect the measurement, each made for the peer's speed, never for less work than the shop does:
- Every service is FastAPI (routes with no dependencies and no validation models beyond path parameters,
  answers as ready-made JSONResponse) on uvicorn with uvloop and httptools, one worker, no access log, with
  its NATS consumers in the same event loop (started in the lifespan), as the real services run.
- Consumers are durable pull consumers read as paved reads them (`fetch(100, timeout=1.0)`); a fetched batch
  is handled concurrently, its publishes are sent with `publish_async` and their JetStream acks awaited, and
  only then is each message of the batch acked: nothing is acked before what it caused is durable.
- Streams use JetStream's defaults (file storage), created before the services start, as `paved prepare` does.
- httpx: one client per callee (see POOL for why and how big), connections kept alive, sniffio installed
  (paved's dependencies bring it: without it httpcore's per-lock `import sniffio` searched sys.path each
  time, ~15% of the order process's CPU here and in the shop). The load generator runs on uvloop too. A
  warm-up of `--warm-up` orders (not measured) opens connections and fills caches first.

On this shared 2-core VM the CPU time per order varied 1.8x between runs minutes apart with nothing else
running in the VM (7.4 to 13.6 ms without the load generator; 108 to 204 orders/s): compare with bench/sagas.py
in runs interleaved with it, not with a figure from another hour.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import psutil
import uvicorn
import uvloop
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from nats.js.api import ConsumerConfig
from paved_platform.processes import spawn, stop  # children that cannot outlive this script

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("order", "catalog", "customer", "warehouse", "payment", "payment-provider", "loyalty", "notification")
STREAMS = {"ORDER_EVENTS": "order.events.>", "ORDER_REPLIES": "order.replies"} | {
    f"{who.upper()}_{kind.upper()}": f"{who}.{kind}.>"
    for kind in ("commands", "events")
    for who in ("warehouse", "payment", "loyalty")
}
# (process, stream, durable consumer, subject filter, what it does with a message); deliveries per order in comments.
CONSUMERS = [
    ("order", "ORDER_REPLIES", "order-replies", None, "reply"),  # 4: the saga's replies
    ("order", "ORDER_EVENTS", "order-saga-view", None, "ack"),  # 2
    *[  # 2 x (loyalty 1 + payment 1 + warehouse 2): the other style's followers and the saga view
        ("order", s, f"order-{use}-{s.lower()}", None, "ack")
        for s in ("LOYALTY_EVENTS", "PAYMENT_EVENTS", "WAREHOUSE_EVENTS")
        for use in ("follows", "saga-view")
    ],
    ("warehouse", "WAREHOUSE_COMMANDS", "warehouse-commands", None, "command"),  # 2
    ("warehouse", "PAYMENT_EVENTS", "warehouse-payment-events", None, "ack"),  # 1
    ("payment", "PAYMENT_COMMANDS", "payment-commands", None, "command"),  # 1
    ("payment", "WAREHOUSE_EVENTS", "payment-warehouse-events", "warehouse.events.stock-reserved", "ack"),  # 1
    ("loyalty", "LOYALTY_COMMANDS", "loyalty-commands", None, "command"),  # 1
    ("loyalty", "PAYMENT_EVENTS", "loyalty-payment-events", None, "ack"),  # 1
    ("notification", "ORDER_EVENTS", "notification-orders", None, "ack"),  # 2
]
# The saga's steps in order: command, partner, the partner's reply type and the event it publishes on its stream.
SAGA = {
    "reserve-stock": ("warehouse", "stock-reserved", "warehouse.events.stock-reserved"),
    "take-payment": ("payment", "payment-taken", "payment.events.payment-taken"),
    "award-points": ("loyalty", "points-awarded", "loyalty.events.points-awarded"),
    "dispatch-order": ("warehouse", "order-dispatched", "warehouse.events.order-dispatched"),
}
STEPS = list(SAGA)
REPLY_TO = {"reply-to": "order.replies"}  # a header: a JetStream message's own reply subject is its ack's
ALBUM = {"title": "Kind of Blue", "artist": "Miles Davis", "price": {"amount": "12.99", "currency": "GBP"}}
ADDRESS = {"name": "Bench Customer", "lines": ["1 Music Street"], "city": "London", "postcode": "N1 9GU"}
# httpcore scans every pooled connection (a poll() on each socket) for each request, so a small pool is cheaper
# per request than a connection per request in flight (8 beat 16, 32 and 100 here, in CPU per order). One pool
# per callee: a full pool shared by two hosts closes an idle connection to one to open one to the other.
POOL = 8
CALLEES = {"order": ("catalog", "customer"), "payment": ("payment-provider",)}
SERVER = {"loop": "uvloop", "http": "httptools", "access_log": False, "log_level": "warning"}


def envelope(kind: str, order_id: str, source: str, data: dict[str, Any], caused_by: str = "") -> bytes:
    """A message as the shop's envelopes are: ids, type, correlation, time, data (about 400-550 bytes)."""
    message = {"id": uuid.uuid4().hex, "type": kind, "source": source, "correlation_id": order_id}
    return json.dumps(
        message | {"causation_id": caused_by, "occurred_at": datetime.now(UTC).isoformat(), "data": data}
    ).encode()


# --- the services -----------------------------------------------------------------------------------------------


async def consume(js: Any, stream: str, durable: str, handle: Any) -> None:
    """Fetch batches, handle a batch (its publishes acked by JetStream), then ack each of its messages.

    With no handler, the messages are only acked (no task per message for a handler that does nothing)."""
    subscription = await js.pull_subscribe_bind(durable=durable, stream=stream)
    while True:
        try:
            messages = await subscription.fetch(100, timeout=1.0)
        except TimeoutError:  # nothing to fetch for a second (nats-py raises asyncio's or its subclass)
            continue
        outcomes = await asyncio.gather(*(handle(m) for m in messages), return_exceptions=True) if handle else messages
        for msg, outcome in zip(messages, outcomes, strict=True):
            if isinstance(outcome, Exception):  # handed back at once, as paved does (and shown in the output)
                print(f"{durable}: {outcome!r}", file=sys.stderr, flush=True)
                await msg.nak()
            else:
                await msg.ack()


async def health() -> Response:
    return Response(b"ok")


def service(role: str, nats_url: str, urls: dict[str, str]) -> FastAPI:
    """One of the shop's processes: its HTTP routes and its consumers, on one event loop."""
    run: dict[str, Any] = {}
    sagas: dict[str, dict[str, Any]] = {}  # order: the saga state of each order in flight

    async def publish(subject: str, kind: str, order_id: str, data: dict[str, Any], **more: Any) -> Any:
        body = envelope(kind, order_id, role, data, more.get("caused_by", ""))
        return await run["js"].publish_async(subject, body, headers=more.get("headers"))  # a future: the ack

    async def command(msg: Any) -> None:  # warehouse, payment, loyalty
        kind, asked = msg.subject.rsplit(".", 1)[1], json.loads(msg.data)
        order_id, data, cause = asked["correlation_id"], asked["data"], asked["id"]
        if kind == "take-payment":
            charge = {"amount": data["total"], "card_token": "tok_4242", "reference": order_id}
            answer = await run["payment-provider"].post("/charges", json=charge)
            data |= {"charge": answer.json()}
        _, reply_type, event = SAGA[kind]
        body = {"order_id": order_id, "outcome": "done", "lines": data["lines"], "total": data["total"]}
        await asyncio.gather(
            await publish(msg.headers["reply-to"], reply_type, order_id, body, caused_by=cause),
            await publish(event, reply_type, order_id, body, caused_by=cause),
        )

    async def reply(msg: Any) -> None:  # order: the saga's next step, or its end
        answer = json.loads(msg.data)
        order_id = answer["correlation_id"]
        if (saga := sagas.get(order_id)) is None:  # handled already (a redelivery): nothing to do
            return
        saga["step"] += 1
        if saga["step"] < len(STEPS):
            kind = STEPS[saga["step"]]
            subject, more = f"{SAGA[kind][0]}.commands.{kind}", {"headers": REPLY_TO}
        else:
            kind, subject, more = "order-dispatched", "order.events.order-dispatched", {}
            del sagas[order_id]
        await (await publish(subject, kind, order_id, saga["data"], caused_by=answer["id"], **more))

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        connection = await nats.connect(nats_url)
        run["js"] = connection.jetstream()
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        clients = {c: httpx.AsyncClient(base_url=urls[c], limits=limits, timeout=30) for c in CALLEES.get(role, ())}
        run.update(clients)
        handlers = {"ack": None, "command": command, "reply": reply}
        tasks = [
            asyncio.create_task(consume(run["js"], stream, durable, handlers[kind]))
            for who, stream, durable, _, kind in CONSUMERS
            if who == role
        ]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients.values():
            await client.aclose()
        await connection.close()

    app = FastAPI(lifespan=lifespan)
    app.add_api_route("/health", health)  # readiness, for the benchmark's start only

    if role == "catalog":

        @app.get("/albums/{sku}")
        async def album(sku: str) -> Response:
            return JSONResponse(ALBUM | {"sku": sku})

    if role == "customer":

        @app.get("/customers/{customer_id}/addresses/{address_id}")
        async def address(customer_id: str, address_id: str) -> Response:
            return JSONResponse(ADDRESS | {"id": address_id, "customer_id": customer_id, "country": "GB"})

    if role == "payment-provider":

        @app.post("/charges")
        async def charge(request: Request) -> Response:
            asked = json.loads(await request.body())
            return JSONResponse({"id": uuid.uuid4().hex, "status": "captured", "amount": asked["amount"]}, 201)

    if role == "order":

        @app.post("/orders")
        async def place(request: Request) -> Response:
            asked = json.loads(await request.body())
            line, customer = asked["lines"][0], asked["customer_id"]
            album, address = await asyncio.gather(
                run["catalog"].get(f"/albums/{line['sku']}"),
                run["customer"].get(f"/customers/{customer}/addresses/{asked['delivery_address_id']}"),
            )
            order_id, price = uuid.uuid4().hex, album.json()["price"]["amount"]
            data = {"order_id": order_id, "customer_id": customer, "total": price, "lines": [line | {"price": price}]}
            sagas[order_id] = {"step": 0, "data": (data := data | {"address": address.json()})}
            await asyncio.gather(
                await publish("order.events.order-placed", "order-placed", order_id, data),
                await publish("warehouse.commands.reserve-stock", STEPS[0], order_id, data, headers=REPLY_TO),
            )
            return JSONResponse({"id": order_id, "status": "placed"}, 201)

    return app


# --- the benchmark ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q / 100 * (len(values) - 1))] * 1000 if values else float("nan")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU of each process so far, and of the whole machine (all processes, all cores)."""
    machine = psutil.cpu_times()
    found = {name: sum(psutil.Process(pid).cpu_times()[:2]) for name, pid in pids.items()}
    return found | {"machine": machine.user + machine.nice + machine.system + machine.irq + machine.softirq}


class Client:
    """The load: POST /orders, and the order events seen on a plain NATS subscription (as bench/sagas.py)."""

    def __init__(self, order_url: str, http: httpx.AsyncClient) -> None:
        self.url, self.http = f"{order_url}/orders", http
        self.dispatched: dict[str, float] = {}  # order id: when its order-dispatched was seen
        self.placed = 0

    async def listen(self, connection: Any) -> None:
        async def seen(msg: Any) -> None:
            if msg.subject == "order.events.order-dispatched":
                self.dispatched.setdefault(json.loads(msg.data)["correlation_id"], time.perf_counter())

        await connection.subscribe("order.events.>", cb=seen)
        await connection.flush()

    async def place(self, n: int, due: float | None = None) -> dict[str, Any]:
        body = {"customer_id": f"customer-{n % 20}", "lines": [{"sku": f"ALB-{n % 4 + 1:05d}", "quantity": 1}]}
        body |= {"payment": {"card_number": "4242424242424242"}, "delivery_address_id": f"address-{n % 20}"}
        order = {"sent": due or time.perf_counter(), "id": ""}
        try:
            answer = await self.http.post(self.url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            order["answered"] = time.perf_counter()
            if answer.status_code == 201:
                order["id"] = answer.json()["id"]
                self.placed += 1
        except httpx.HTTPError as error:
            order["error"] = repr(error)
        return order

    async def phase(self, name: str, count: int, concurrency: int, pids: dict[str, int], rate: float = 0.0) -> Any:
        """`count` orders, at most `concurrency` POSTs in flight, or (with a rate) each sent at its time."""
        cpu, limit = cpu_seconds(pids), asyncio.Semaphore(concurrency)

        async def bounded(n: int) -> dict[str, Any]:
            async with limit:
                return await self.place(n)

        if not rate:
            orders = await asyncio.gather(*(bounded(n) for n in range(count)))
        else:  # open loop: latency counts from when an order was due, however late the shop lets it out
            start, tasks = time.perf_counter() + 0.1, []
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(self.place(n, due=start + n / rate)))
            orders = await asyncio.gather(*tasks)
        ids, seen, last = [o["id"] for o in orders if o["id"]], -1, time.perf_counter()
        while (done := sum(i in self.dispatched for i in ids)) < len(ids) and time.perf_counter() - last < 30:
            seen, last = done, (time.perf_counter() if done != seen else last)
            await asyncio.sleep(0.01)
        used = {k: v - cpu[k] for k, v in cpu_seconds(pids).items()}
        first = min(o["sent"] for o in orders)  # the first POST sent (or due)
        seen_at = [(o["sent"], t) for o in orders if (t := self.dispatched.get(o["id"]))]
        answered = [(o["sent"], o["answered"]) for o in orders if o["id"]]
        ended, posts = [t - sent for sent, t in seen_at], [t - sent for sent, t in answered]
        f: dict[str, Any] = {"phase": name, "orders": count, "placed": len(ids), "completed": len(ended)}
        f |= {"unfinished": len(ids) - len(ended), "failed": count - len(ids)}
        f["completed_per_s"] = len(ended) / (max(t for _, t in seen_at) - first) if ended else 0.0
        f["placed_per_s"] = len(posts) / (max(t for _, t in answered) - first) if posts else 0.0
        f |= {"p50_ms": pct(ended, 50), "p99_ms": pct(ended, 99), "post_p50_ms": pct(posts, 50)}
        f |= {"post_p99_ms": pct(posts, 99), "seconds": time.perf_counter() - first}
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in f.items()}), flush=True)
        return f, used


async def prepare(js: Any) -> None:
    """Streams (JetStream defaults: file storage) and durable consumers, before any service starts."""
    for name, subject in STREAMS.items():
        await js.add_stream(name=name, subjects=[subject])
    for _, stream, durable, subject, _ in CONSUMERS:
        config = ConsumerConfig(durable_name=durable, filter_subject=subject, ack_wait=30, max_ack_pending=1000)
        await js.add_consumer(stream, config)


async def shape(js: Any, orders: int) -> str:
    """Messages stored and deliveries made per order, as the broker counts them (the shape, checked)."""
    stored = sum([(await js.stream_info(s)).state.messages for s in STREAMS])
    infos = [await js.consumer_info(stream, durable) for _, stream, durable, _, _ in CONSUMERS]
    delivered, again = sum(i.delivered.consumer_seq for i in infos), sum(i.num_redelivered for i in infos)
    return (
        f"Per order, as JetStream counts them over all {orders} orders of the run: {stored / orders:.2f} messages "
        f"stored (shape: 14), {delivered / orders:.2f} deliveries to durable consumers (shape: 23); {again} "
        f"redelivered, {sum(i.num_ack_pending + i.num_pending for i in infos)} left pending or unacked."
    )


async def bench(args: argparse.Namespace, urls: dict[str, str], nats_url: str, pids: dict[str, int]) -> list[str]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # in the loop: main's finally runs
    connection = await nats.connect(nats_url)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        client = Client(urls["order"], http)
        await client.listen(connection)
        if args.warm_up:
            await client.phase("warm-up (not counted)", args.warm_up, args.concurrency, pids)
        full, cpu = await client.phase("maximum rate", args.orders, args.concurrency, pids)
        rate = full["completed_per_s"] / 2
        name, count = f"half rate ({rate:.1f}/s for {args.seconds:g} s)", max(1, int(rate * args.seconds))
        half, _ = await client.phase(name, count, args.concurrency, pids, rate)
    checked = await shape(connection.jetstream(), client.placed)
    await connection.close()
    print(checked, flush=True)
    lines = [
        "| phase | orders | placed | completed | unfinished | failed POSTs | completed/s | placed/s | p50 | p99 | POST "
        + "p50 | POST p99 |",
        "|" + "---|" * 12,
    ]
    lines += [
        f"| {f['phase']} | {f['orders']} | {f['placed']} | {f['completed']} | {f['unfinished']} | {f['failed']} "
        f"| {f['completed_per_s']:.1f} | {f['placed_per_s']:.1f} | {f['p50_ms']:.0f} ms | {f['p99_ms']:.0f} ms "
        f"| {f['post_p50_ms']:.0f} ms | {f['post_p99_ms']:.0f} ms |"
        for f in (full, half)
    ]
    done, machine, ours = max(1, full["completed"]), cpu.pop("machine"), sum(cpu.values())
    shop = ours - cpu["bench client"]
    figures = {k: round(1000 * v / done, 2) for k, v in cpu.items()} | {"total": round(1000 * ours / done, 2)}
    others = (machine - ours) / full["seconds"]  # other processes, and the kernel's interrupt work
    print(json.dumps({"cpu_ms_per_order": figures, "cores_busy_outside_the_benchmark": round(others, 2)}))
    text = (
        f"CPU over the maximum-rate phase ({full['seconds']:.1f} s; psutil, user + system): {1000 * ours / done:.1f} "
        f"ms per completed order in all, {1000 * shop / done:.1f} ms without the load generator; meanwhile the rest "
        f"of the machine (other processes, kernel interrupts) kept {others:.2f} cores busy. At that CPU per order "
        f"(it varies with batch sizes, so this is a rough guide), {os.cpu_count()} cores / {shop / done * 1000:.1f} "
        f"ms = {os.cpu_count() * done / shop:.0f} orders/s if the shop's processes had every core to themselves, "
        f"and the order process alone (one process, one core) would stop at {done / cpu['order']:.0f}/s."
    )
    lines += ["", text, "", "| process | CPU s / 100 orders | ms / order | cores busy |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {100 * s / done:.2f} | {1000 * s / done:.2f} | {s / full['seconds']:.2f} |"
        for name, s in sorted(cpu.items(), key=lambda kv: -kv[1])
    ]
    return [*lines, "", checked]


def main(args: argparse.Namespace) -> None:
    started, load, server = time.gmtime(), os.getloadavg(), str(Path(sys.executable).parent / "nats-server")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # before the event loop: so that the finally below runs
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with tempfile.TemporaryDirectory(prefix="saga-floor-") as folder:
        logs = Path(folder)
        try:
            port = free_port()  # never 4222: another NATS runs there
            command = [server, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", folder]
            processes["nats-server"] = spawn(command, log_path=logs / "nats.log", env=dict(os.environ))
            nats_url = f"nats://127.0.0.1:{port}"
            for _ in range(100):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)

            async def prepared() -> None:
                connection = await nats.connect(nats_url)
                await prepare(connection.jetstream())
                await connection.close()

            asyncio.run(prepared())
            ports = {role: free_port() for role in ROLES}
            urls = {role: f"http://127.0.0.1:{port}" for role, port in ports.items()}
            for role in ROLES:
                command = [sys.executable, __file__, "--role", role, "--port", str(ports[role]), "--nats", nats_url]
                processes[role] = spawn(
                    [*command, "--urls", json.dumps(urls)], log_path=logs / f"{role}.log", env=dict(os.environ)
                )
            deadline = time.monotonic() + 60
            for role in ROLES:  # uvicorn answers once the lifespan has started the consumers
                while not ok(f"{urls[role]}/health"):
                    if processes[role].poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"{role} did not start:\n{(logs / f'{role}.log').read_text()[-3000:]}")
                    time.sleep(0.1)
            pids = {name: p.pid for name, p in processes.items()} | {"bench client": os.getpid()}
            try:
                lines = uvloop.run(bench(args, urls, nats_url, pids))
            except asyncio.CancelledError:  # SIGTERM
                raise SystemExit(143) from None
        finally:
            for name in [*ROLES, "nats-server"]:  # the services first: they close their NATS connections
                if name in processes:
                    stop(processes[name], grace=10)
            for log in sorted(logs.glob("*.log")):  # what a service said: nothing, when all went well
                if log.name != "nats.log" and (text := log.read_text(errors="replace").strip()):
                    print(f"--- {log.stem}:\n{text[-2000:]}", file=sys.stderr)
    version = subprocess.run([server, "--version"], check=False, capture_output=True, text=True).stdout.strip()
    title = (
        f"# The saga's floor (bare peer of bench/sagas.py): {time.strftime('%Y-%m-%d %H:%M UTC', started)}\n\n"
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, {version}; load average "
        f"at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (the machine is shared). {args.orders} orders at the"
        f" maximum rate ({args.concurrency} POSTs in flight, after {args.warm_up} orders of warm-up), "
        f"{args.seconds:g} s at half of it. The shape, and the choices that affect it: the docstring of "
        "bench/saga_floor.py.\n\n"
    )
    out = ROOT / "bench" / "results" / f"{time.strftime('%Y-%m-%d-%H%M', started)}-saga-floor.md"
    out.write_text(title + "\n".join(lines) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


def ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders at the maximum rate")
    parser.add_argument("--concurrency", type=int, default=32, help="POSTs in flight at the maximum rate")
    parser.add_argument("--seconds", type=float, default=10, help="how long to place orders at half rate")
    parser.add_argument("--warm-up", type=int, default=100, help="orders first, not measured")
    parser.add_argument("--role", choices=ROLES, help="(internal) run one of the shop's processes")
    parser.add_argument("--port", type=int)
    parser.add_argument("--nats")
    parser.add_argument("--urls", type=json.loads)
    arguments = parser.parse_args()
    if arguments.role:  # one of the shop's processes; keep-alive beyond httpx's 5 s, so the client closes first
        app = service(arguments.role, arguments.nats, arguments.urls)
        uvicorn.run(app, host="127.0.0.1", port=arguments.port, timeout_keep_alive=30, **SERVER)
    else:
        main(arguments)
