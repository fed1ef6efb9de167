"""Issue 5 benchmark: the order fulfilment saga end to end, on `paved up` as it ships (SQLite, embedded NATS).

Run by `make bench`, or: .venv/bin/python bench/sagas.py [--orders 300] [--concurrency 32] [--seconds 20]
[--customers 20] [--style orchestrated|choreographed] (without --style: every style the order service accepts).

Why it is built this way:
- The shop starts as the system tests start it (`paved up --free-ports` on a new state folder) and is stopped
  with SIGTERM whatever happens: the figures are those of the shop a person runs, not of a tuned set-up.
- Customers sign up through web-bff as `make demo` does; the warehouse is given stock first, so that no
  order is rejected for want of it (a rejection is a shorter saga and would flatter the rate).
- Maximum rate: M checkouts POSTed to the order service, at most C POSTs in flight, the sagas left to drain;
  completed orders/s = completed / (last completion - first placement).
- Half rate: checkouts placed on a clock (open loop) at half that maximum; latency counts from each order's
  due time, so a slow shop cannot slow its own load down (no coordinated omission).
- The peer, in the same run: the placement alone (POST answered 201) at the maximum rate. Placed/s and
  completed/s come from the same orders; their ratio is what the fulfilment costs beyond taking the order.
- Where the time goes: CPU seconds per process (psutil) and HTTP requests per service (/metrics) over the
  maximum-rate phase, then that phase again under py-spy on the order service and the busiest other one.
- The floor, in the same run, after the shop has stopped: bench/saga_floor.py, the same conversation between
  the same processes with nothing else (no database, outbox, inbox, validation or auth). Its maximum bounds
  what any implementation of this shape reaches on this machine; shop ÷ floor is the figure to compare.

An order's end is seen from its event (order.events.order-dispatched / -rejected, a plain NATS subscription
on the shop's broker), not by polling: polling each order every 20 ms is 50 GETs/s per order in flight, i.e.
thousands a second at the maximum rate, against the very service under test. Every order is read once after
its phase (outside the measured window) to check that its event and its status agree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import ssl
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import psutil
from paved_platform.processes import stop

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
GOOD_CARD = "4242424242424242"
DEV_ADMIN = ("admin@musiccorp.example.com", "development-admin-password")  # identity seeds it in development
SKUS = ("ALB-00001", "ALB-00002", "ALB-00003", "ALB-00006")  # in the seed's stock; topped up before the run
ENDED = {
    "order.events.order-dispatched": "dispatched",
    "order.events.order-rejected": "rejected",
    "order.events.order-cancelled": "cancelled",
}
STYLES = ("orchestrated", "choreographed")
SAMPLE_RATE = 100  # py-spy samples per second
WAITING = re.compile(r"(Condition|Event)\.wait \(threading\.py|Queue\.get \(queue\.py")
ENTRY = re.compile(r"\(paved/(cli|serve|__main__)\.py")


@dataclass
class Order:
    sent: float  # perf_counter when the POST left (paced: when it was due)
    customer: int
    answered: float = 0.0
    id: str = ""
    error: str = ""


@dataclass
class Phase:
    name: str
    orders: list[Order]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process over the phase
    http: dict[str, tuple[float, float]] = field(default_factory=dict)  # requests, seconds per service
    published: dict[str, int] = field(default_factory=dict)  # messages stored per JetStream stream
    delivered: dict[str, int] = field(default_factory=dict)  # messages delivered per durable consumer
    wall: float = 0.0  # seconds between the CPU readings


def pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q / 100 * (len(values) - 1))] * 1000 if values else float("nan")


@contextmanager
def paved_up(state: Path) -> Iterator[dict[str, Any]]:
    """`paved up` as system-tests/conftest.py runs it; yields run.json once every service answers ready."""
    log = state.parent / "paved-up.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(VENV / "paved"), "up", "--root", str(ROOT), "--free-ports", "--state-dir", str(state)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 180
        while "stops everything" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"paved up did not start ({process.returncode}):\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        run = json.loads((state / "run.json").read_text())
        trusting = ssl.create_default_context(cafile=run["tls"]["ca_file"])
        for name, service in run["services"].items():
            if httpx.get(f"{service['url']}/health/ready", timeout=5, verify=trusting).status_code != 200:
                raise SystemExit(f"{name} is not ready")
        yield run
    finally:
        stop(process, grace=60)


def workload_tls(pki: Path, workload: str) -> ssl.SSLContext:
    """What the bench presents as ``workload`` (its certificate from paved up's authority)."""
    context = ssl.create_default_context(cafile=pki / "ca.pem")
    context.load_cert_chain(pki / workload / "cert.pem", pki / workload / "key.pem")
    return context


def style_field(spec: dict[str, Any]) -> tuple[str, str] | None:
    """Where order's POST /orders takes a fulfilment style, if it does: ('headers'|'json', name), by its OpenAPI."""
    post = spec["paths"]["/orders"]["post"]
    for parameter in post.get("parameters", []):
        if re.search("style|fulfil", parameter["name"], re.I):
            return "headers", parameter["name"]
    ref = post["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
    schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return next((("json", p) for p in schema.get("properties", {}) if re.search("style|fulfil", p, re.I)), None)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU so far of each process (a service's with its children, if it has any)."""
    found = {}
    for name, pid in pids.items():
        try:
            process = psutil.Process(pid)
            # `paved up` is the parent of every service, and this script of `paved up`: their own CPU only.
            family = [] if name in ("paved up", "bench client") else process.children(recursive=True)
            found[name] = sum(sum(p.cpu_times()[:2]) for p in [process, *family])
        except psutil.Error:
            found[name] = float("nan")
    return found


class Shop:
    """The running shop, its customers, and the order events seen on its broker."""

    def __init__(self, run: dict[str, Any], http: httpx.AsyncClient, operator: httpx.AsyncClient) -> None:
        # The shop serves mutual TLS: the customers' calls go as the storefront's, the stock's as the operator's.
        self.run, self.http, self.operator = run, http, operator
        self.urls = {name: s["url"] for name, s in run["services"].items()}
        self.pids = {name: int(s["pid"]) for name, s in run["services"].items()}
        self.pids |= {"nats": int(run["nats"]["pid"]), "paved up": int(run["pid"]), "bench client": os.getpid()}
        self.customers: list[dict[str, str]] = []
        self.ended: dict[str, tuple[str, float, str]] = {}  # order id: (status, when seen, reason)
        self.extra: dict[str, dict[str, str]] = {"json": {}, "headers": {}}

    async def listen(self) -> None:
        async def seen(msg: Any) -> None:
            if msg.subject in ENDED:
                data, now = json.loads(msg.data)["data"], time.perf_counter()
                self.ended.setdefault(data["order_id"], (ENDED[msg.subject], now, data.get("reason", "")))

        self.broker = await nats.connect(self.run["nats"]["url"])
        await self.broker.subscribe("order.events.>", cb=seen)

    async def set_up(self, customers: int) -> None:
        """Customers as `make demo` makes them (web-bff), and 100,000 more units of each album we order."""
        bff = f"{self.urls['web-bff']}/api"
        for n in range(customers):
            email = f"bench-{n}-{uuid.uuid4().hex[:6]}@example.com"
            account = {"email": email, "password": "correct horse battery staple"}
            (await self.http.post(f"{bff}/register", json=account)).raise_for_status()
            token = (await self.http.post(f"{bff}/sign-in", json=account)).raise_for_status().json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            profile = {"display_name": f"Bench {n}", "email": email}
            (await self.http.put(f"{bff}/account/profile", json=profile, headers=auth)).raise_for_status()
            address = {
                "name": f"Bench {n}",
                "lines": ["1 Music Street"],
                "city": "London",
                "postcode": "N1 9GU",
                "country": "GB",
            }
            found = (await self.http.post(f"{bff}/account/addresses", json=address, headers=auth)).raise_for_status()
            self.customers.append(account | {"token": auth["Authorization"], "address": found.json()["id"]})
        grant = {"grant_type": "password", "username": DEV_ADMIN[0], "password": DEV_ADMIN[1], "scope": "admin"}
        token = (await self.http.post(f"{self.urls['identity']}/oauth/token", data=grant)).raise_for_status()
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for sku in SKUS:
            url = f"{self.urls['warehouse']}/stock/{sku}/receipts/bench-{uuid.uuid4().hex}"
            (await self.operator.put(url, json={"quantity": 100_000}, headers=admin)).raise_for_status()

    async def sign_in_again(self) -> None:
        """Access tokens live 10 minutes: every phase starts with new ones (outside what is measured)."""
        for c in self.customers:
            grant = {"email": c["email"], "password": c["password"]}
            tokens = (await self.http.post(f"{self.urls['web-bff']}/api/sign-in", json=grant)).raise_for_status()
            c["token"] = f"Bearer {tokens.json()['access_token']}"

    async def style_field(self) -> tuple[str, str] | None:
        return style_field((await self.http.get(f"{self.urls['order']}/openapi.json")).raise_for_status().json())

    async def place(self, n: int, due: float | None = None) -> Order:
        customer = self.customers[n % len(self.customers)]
        body = {
            "lines": [{"sku": SKUS[n % len(SKUS)], "quantity": 1}],
            "payment": {"card_number": GOOD_CARD},
            "delivery_address_id": customer["address"],
        } | self.extra["json"]
        headers = {"Authorization": customer["token"], "Idempotency-Key": uuid.uuid4().hex} | self.extra["headers"]
        order = Order(sent=due or time.perf_counter(), customer=n % len(self.customers))
        try:
            answer = await self.http.post(f"{self.urls['order']}/orders", json=body, headers=headers)
            order.answered = time.perf_counter()
            if answer.status_code == 201:
                order.id = answer.json()["id"]
            else:
                order.error = f"POST /orders {answer.status_code}: {answer.text[:300]}"
        except httpx.HTTPError as error:
            order.error = f"POST /orders: {error!r}"
        return order

    async def wait_ended(self, orders: list[Order], idle: float = 30.0) -> None:
        """Until every placed order has ended, or none has for `idle` seconds."""
        ids, count, last = [o.id for o in orders if o.id], -1, time.perf_counter()
        while (now := sum(i in self.ended for i in ids)) < len(ids):
            if now != count:
                count, last = now, time.perf_counter()
            elif time.perf_counter() - last > idle:
                return
            await asyncio.sleep(0.05)

    async def check(self, orders: list[Order]) -> list[str]:
        """Each order read once after its phase (not measured): its status must agree with the event seen."""
        limit, disagree = asyncio.Semaphore(8), []

        async def one(o: Order) -> None:
            async with limit:
                auth = {"Authorization": self.customers[o.customer]["token"]}
                answer = await self.http.get(f"{self.urls['order']}/orders/{o.id}", headers=auth)
            status = answer.json().get("status") if answer.status_code == 200 else f"HTTP {answer.status_code}"
            seen = self.ended.get(o.id, ("no event",))[0]
            if status != seen:
                disagree.append(f"{o.id}: event {seen}, GET {status}")

        await asyncio.gather(*(one(o) for o in orders if o.id))
        return disagree

    async def http_totals(self) -> dict[str, tuple[float, float]]:
        """Requests answered and seconds spent answering them, per service, from its Prometheus /metrics."""
        totals = {}
        for name, url in self.urls.items():
            text = (await self.http.get(f"{url}/metrics")).text
            count = seconds = 0.0
            for metric, labels, value in re.findall(r"^(\w+)\{(.*)\} (\S+)$", text, re.M):
                if 'route="/metrics"' in labels or 'route="/health' in labels:
                    continue
                count += float(value) if metric == "http_requests_total" else 0
                seconds += float(value) if metric == "http_request_duration_seconds_sum" else 0
            totals[name] = (count, seconds)
        return totals

    async def broker_totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Messages stored so far per stream, and delivered so far per durable consumer (JetStream's own counts)."""
        js, stored, delivered = self.broker.jetstream(), {}, {}
        for stream in await js.streams_info():
            stored[stream.config.name] = stream.state.last_seq
            for consumer in await js.consumers_info(stream.config.name):
                delivered[consumer.name] = consumer.delivered.consumer_seq
        return stored, delivered

    async def phase(self, name: str, count: int, concurrency: int, rate: float | None = None) -> Phase:
        """`count` orders, at most `concurrency` POSTs at once, or (with a rate) each at its time on a clock."""
        await self.sign_in_again()
        stored, delivered = await self.broker_totals()
        cpu, http, started = cpu_seconds(self.pids), await self.http_totals(), time.perf_counter()
        limit = asyncio.Semaphore(concurrency)

        async def bounded(n: int) -> Order:
            async with limit:
                return await self.place(n)

        if rate is None:
            orders = await asyncio.gather(*(bounded(n) for n in range(count)))
        else:
            start, tasks = time.perf_counter() + 0.1, []
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(self.place(n, due=start + n / rate)))
            orders = await asyncio.gather(*tasks)
        await self.wait_ended(orders)
        after_cpu, after_http = cpu_seconds(self.pids), await self.http_totals()
        wall = time.perf_counter() - started
        await asyncio.sleep(1)  # the last events' deliveries to consumers that only follow (not measured)
        after_stored, after_delivered = await self.broker_totals()
        result = Phase(
            name,
            orders,
            cpu={k: after_cpu[k] - cpu[k] for k in cpu},
            http={k: (after_http[k][0] - http[k][0], after_http[k][1] - http[k][1]) for k in http},
            wall=wall,
            published={k: v - stored.get(k, 0) for k, v in after_stored.items() if v - stored.get(k, 0)},
            delivered={k: v - delivered.get(k, 0) for k, v in after_delivered.items() if v - delivered.get(k, 0)},
        )
        print(name, json.dumps({k: round(v, 1) for k, v in self.figures(result).items()}), flush=True)
        return result

    def figures(self, phase: Phase) -> dict[str, float]:
        placed = [o for o in phase.orders if o.id]
        ended = [(o, self.ended[o.id]) for o in placed if o.id in self.ended]
        first = min(o.sent for o in phase.orders)
        statuses = Counter(status for _, (status, _, _) in ended)
        latencies = [t - o.sent for o, (_, t, _) in ended]
        return {
            "orders": len(phase.orders),
            "placed": len(placed),
            "failed": len(phase.orders) - len(placed),
            "dispatched": statuses["dispatched"],
            "rejected": statuses["rejected"] + statuses["cancelled"],
            "unfinished": len(placed) - len(ended),
            "completed_per_s": len(ended) / (max(t for _, (_, t, _) in ended) - first) if ended else 0.0,
            "placed_per_s": len(placed) / (max(o.answered for o in placed) - first) if placed else 0.0,
            "p50": pct(latencies, 50),
            "p99": pct(latencies, 99),
            "post_p50": pct([o.answered - o.sent for o in placed], 50),
            "post_p99": pct([o.answered - o.sent for o in placed], 99),
        }


def package(frame: str) -> str:
    """`func (sqlalchemy/orm/session.py:12)` -> sqlalchemy; a service's own code is named by its package."""
    where = frame.rpartition(" (")[2].split(":")[0]
    return where.split("/")[0].removesuffix(".py") or "(no Python frame)"


def summarize(path: Path, span: float, service: str) -> list[str]:
    """A py-spy raw (collapsed) profile as tables: how busy, in which packages and functions, from which code."""
    stacks = [
        (line.rpartition(" ")[0].split(";"), int(line.rpartition(" ")[2]))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    # py-spy counts a worker thread blocked in Queue.get(timeout) as active: it is waiting, not working.
    stacks = [(frames, n) for frames, n in stacks if not WAITING.match(frames[-1])]
    total = sum(n for _, n in stacks) or 1
    packages, functions, inclusive = Counter[str](), Counter[str](), Counter[str]()
    for frames, n in stacks:
        packages[package(frames[-1])] += n
        functions[frames[-1] or "(no Python frame)"] += n
        for frame in set(frames):  # the service's own code and paved's, but not the process's entry frames
            if package(frame) in (service.replace("-", "_"), "paved") and not ENTRY.search(frame):
                inclusive[frame] += n
    lines = [
        f"**{service}**: {total:,} samples at {SAMPLE_RATE}/s over {span:.1f} s: working (not waiting) "
        f"{total / (span * SAMPLE_RATE):.0%} of the time.",
        "",
        "| package of the sampled frame | share | function of the sampled frame | share |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {p} | {pn / total:.1%} | `{f}` | {fn / total:.1%} |"
        for (p, pn), (f, fn) in zip(packages.most_common(10), functions.most_common(10), strict=False)
    ]
    lines += ["", f"| {service}'s and paved's frames, with what they call | share |", "|---|---|"]
    return lines + [f"| `{frame}` | {n / total:.1%} |" for frame, n in inclusive.most_common(12)] + [""]


async def profiled(shop: Shop, args: argparse.Namespace, busiest: str, folder: Path) -> list[str]:
    """The maximum-rate phase again, with py-spy on the order service and the busiest other service."""
    py_spy = VENV / "py-spy"
    if not py_spy.exists():  # not a dependency of the shop: installed here only when it is wanted
        subprocess.run(
            [str(VENV / "uv"), "pip", "install", "--quiet", "--python", str(VENV / "python"), "py-spy"], check=False
        )
    if not py_spy.exists():
        return ["py-spy could not be installed: where the time goes is the CPU and HTTP table above only.", ""]
    targets = args.spy or (["order"] + ([busiest] if busiest != "order" else []))
    folder.mkdir(parents=True, exist_ok=True)
    spies = {
        name: subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(shop.pids[name]),
                "--format",
                "raw",
                "--rate",
                str(SAMPLE_RATE),
                "--output",
                str(folder / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"{name}.err").open("wb"),
        )
        for name in targets
    }
    try:
        await asyncio.sleep(2)  # attached
        started = time.perf_counter()
        await shop.phase("maximum rate, under py-spy", args.orders, args.concurrency)
        span = time.perf_counter() - started
    finally:
        for spy in spies.values():
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    lines = []
    for name in targets:
        out = folder / f"{name}.txt"
        why = (folder / f"{name}.err").read_text(errors="replace").strip().splitlines()[-1:]
        lines += summarize(out, span, name) if out.exists() else [f"py-spy could not profile {name}: {why}", ""]
    return lines


def machine() -> str:
    """What ran it: the figures only compare within a run, but a reader needs to know the machine and the code."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "services", "paved"], capture_output=True, text=True
    ).stdout.splitlines()
    code = f"commit {commit.stdout.strip()}" + (
        f" with {len(changed)} uncommitted changes in services/ and paved/" if changed else ""
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))) / 2**20
    return (
        f"{platform.node()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
        f"load average at start {os.getloadavg()[0]:.2f} (the machine is shared); {code}"
    )


def report(shop: Shop, style: str, phases: list[Phase], checks: list[str]) -> list[str]:
    """The tables of one style: rates and latencies, then CPU and HTTP per service."""
    lines = [
        f"## {style}",
        "",
        "| phase | orders | completed/s | placed/s (peer) | completed ÷ placed | p50 | p99 "
        "| POST p50 | POST p99 | dispatched | rejected | unfinished | failed POSTs |",
        "|" + "---|" * 13,
    ]
    for phase in phases:
        f = shop.figures(phase)
        lines.append(
            f"| {phase.name} | {f['orders']:.0f} | {f['completed_per_s']:.1f} | {f['placed_per_s']:.1f} | "
            f"{f['completed_per_s'] / (f['placed_per_s'] or 1):.2f} | {f['p50']:.0f} ms | {f['p99']:.0f} ms | "
            f"{f['post_p50']:.0f} ms | {f['post_p99']:.0f} ms | {f['dispatched']:.0f} | {f['rejected']:.0f} | "
            f"{f['unfinished']:.0f} | {f['failed']:.0f} |"
        )
    full, half = phases[0], phases[1]
    done = {p.name: max(1, shop.figures(p)["dispatched"] + shop.figures(p)["rejected"]) for p in (full, half)}
    lines += [
        "",
        f"CPU seconds per 100 completed orders (psutil, user + system), the cores each process kept busy "
        f"over the maximum-rate phase ({full.wall:.1f} s; all of them together: "
        f"{sum(full.cpu.values()) / full.wall:.2f} of {os.cpu_count()}), and the HTTP requests each service "
        "answered per order at the maximum rate (its /metrics, without health and metrics):",
        "",
        "| process | CPU s / 100 orders, maximum rate | cores busy | CPU s / 100 orders, half rate | HTTP "
        "requests per order | mean ms per request |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(full.cpu, key=lambda k: -full.cpu[k]):
        requests, seconds = full.http.get(name, (0.0, 0.0))
        lines.append(
            f"| {name} | {100 * full.cpu[name] / done[full.name]:.2f} | {full.cpu[name] / full.wall:.2f} | "
            f"{100 * half.cpu[name] / done[half.name]:.2f} | {requests / done[full.name]:.1f} | "
            f"{1000 * seconds / requests if requests else 0:.1f} |"
        )
    rejected = Counter(
        reason
        for o in (x for p in phases for x in p.orders)
        if o.id in shop.ended
        for status, _, reason in [shop.ended[o.id]]
        if status != "dispatched"
    )
    errors = Counter(o.error for p in phases for o in p.orders if o.error)
    per_order = done[full.name]
    lines += [
        "",
        f"Messages per order at the maximum rate (JetStream's counts): "
        f"{sum(full.published.values()) / per_order:.1f} stored, {sum(full.delivered.values()) / per_order:.1f}"
        " delivered to durable consumers; by consumer: "
        + ", ".join(f"{k} {v / per_order:.1f}" for k, v in sorted(full.delivered.items()))
        + ".",
    ]
    lines += [
        "",
        f"Rejections by reason: {dict(rejected) or 'none'}. Failed POSTs: "
        f"{dict(errors.most_common(5)) or 'none'}. Orders whose status, read after the phases, disagrees "
        f"with the event seen: {checks[:5] or 'none'}.",
        "",
    ]
    return lines


def troubles(state: Path) -> list[str]:
    """What went wrong in the shop meanwhile: restarts (run.json) and error lines in the services' logs."""
    found = []
    for name, service in json.loads((state / "run.json").read_text())["services"].items():
        errors = [
            entry
            for line in Path(service["log"]).read_text(errors="replace").splitlines()
            if line.startswith("{") and (entry := json.loads(line)).get("level") in ("error", "critical")
        ]
        if service["restarts"] or errors:
            first = f": first `{errors[0].get('event')}` {str(errors[0].get('exception', ''))[-300:]}" if errors else ""
            found.append(f"- {name}: {service['restarts']} restarts, {len(errors)} error lines in its log{first}")
    return found or ["- none: no service restarted, no error line in any service's log"]


def floor(args: argparse.Namespace) -> tuple[list[str], dict[str, Any] | None]:
    """bench/saga_floor.py in a process of its own (its own broker and servers); its maximum-rate figures."""
    done = subprocess.run(
        [str(VENV / "python"), str(ROOT / "bench" / "saga_floor.py"), "--seconds", str(min(args.seconds, 10))],
        capture_output=True,
        text=True,
        check=False,
    )
    figures = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    full = next((f for f in figures if f.get("phase") == "maximum rate"), None)
    written = next((line for line in done.stdout.splitlines() if line.startswith("written to")), "")
    if done.returncode != 0 or full is None:
        return [f"The floor did not run ({done.returncode}): {done.stderr[-500:]}", ""], None
    return [
        f"The floor (bench/saga_floor.py, {written.removeprefix('written to ')}): {full['completed_per_s']:.1f} "
        f"completed orders/s at its maximum ({full['placed_per_s']:.1f} placed/s).",
        "",
    ], full


async def main(args: argparse.Namespace) -> None:
    started, head = time.gmtime(), machine()
    with tempfile.TemporaryDirectory(prefix="paved-bench-sagas-") as name, paved_up(Path(name) / "state") as run:
        limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
        pki = Path(run["tls"]["ca_file"]).parent
        async with (
            httpx.AsyncClient(timeout=30, limits=limits, verify=workload_tls(pki, "web-bff")) as http,
            httpx.AsyncClient(timeout=30, verify=workload_tls(pki, "operator")) as operator,
        ):
            shop = Shop(run, http, operator)
            await shop.listen()
            await shop.set_up(args.customers)
            where = await shop.style_field()
            lines: list[str] = []
            maxima: dict[str, Phase] = {}
            for style in args.style or STYLES:
                if where is None and style != "orchestrated":
                    print(f"{style}: not built yet (POST /orders takes no style field or header): skipped")
                    lines += [f"## {style}", "", "Not built yet: the order service's POST /orders takes no style.", ""]
                    continue
                if where is not None:
                    shop.extra[where[0]] = {where[1]: style}
                full = maxima[style] = await shop.phase("maximum rate", args.orders, args.concurrency)
                rate = shop.figures(full)["completed_per_s"] / 2
                half = await shop.phase(
                    f"half rate ({rate:.1f}/s for {args.seconds:.0f} s)",
                    max(1, int(rate * args.seconds)),
                    args.concurrency,
                    rate=rate,
                )
                lines += report(shop, style, [full, half], await shop.check(full.orders + half.orders))
                services = {k: v for k, v in full.cpu.items() if k in shop.urls}
                busiest = max(services, key=lambda k: services[k])
                if not args.no_profile:
                    lines += ["### Where the time goes: py-spy", ""]
                    lines += await profiled(shop, args, busiest, args.profiles or Path(name))
            await shop.broker.close()
            lines += ["## Trouble in the shop during the run", "", *troubles(Path(name) / "state"), ""]
            rates = {style: shop.figures(p)["completed_per_s"] for style, p in maxima.items()}
    if not args.no_floor:
        said, peer = floor(args)
        lines += ["## The floor: the same conversation with nothing else", "", *said]
        if peer is not None:
            lines += [
                f"- {style}: {rate:.1f} ÷ {peer['completed_per_s']:.1f} = "
                f"{rate / peer['completed_per_s']:.2f} of the floor"
                for style, rate in rates.items()
            ] + [""]
    title = (
        f"# The fulfilment saga: {time.strftime('%Y-%m-%d %H:%M UTC', started)}\n\n{head}. `paved up` as it "
        f"ships (SQLite, embedded NATS), {args.customers} customers, {args.orders} orders at the maximum rate "
        f"({args.concurrency} POSTs in flight), {args.seconds:.0f} s at half of it.\n\n"
    )
    out = ROOT / "bench" / "results" / f"{time.strftime('%Y-%m-%d-%H%M', started)}-sagas.md"
    out.write_text(title + "\n".join(lines))
    print(f"\n{out.read_text()}\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders at the maximum rate")
    parser.add_argument("--concurrency", type=int, default=32, help="POSTs in flight at the maximum rate")
    parser.add_argument("--seconds", type=float, default=20, help="how long to place orders at half rate")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--style", choices=STYLES, action="append", help="default: every style")
    parser.add_argument("--profiles", type=Path, help="keep py-spy's raw profiles in this folder")
    parser.add_argument("--no-profile", action="store_true", help="skip the phase under py-spy")
    parser.add_argument("--spy", action="append", help="a service to profile (default: order and the busiest other)")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare peer (bench/saga_floor.py)")
    asyncio.run(main(parser.parse_args()))
