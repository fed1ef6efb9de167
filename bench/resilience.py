"""Issue 13 benchmark: what paved's resilient client costs per call, and what its policies are worth to a
caller of an overloaded upstream. One run, one report: bench/results/<date>-resilience.md (~5 minutes).

Run by `make bench`, or alone: .venv/bin/python bench/resilience.py [--repeats 3] [--seconds 8] [--overload 2]
[--deadline 2] [--replicas 8] [--service-ms 10] [--cost-repeats 5].

1. Cost per call. A tiny Starlette app on uvicorn (uvloop, httptools) in its own process
   (bench/resilience_upstream.py); in this process (uvloop too), GETs one after another and 16 at once,
   through a kept bare ``httpx.AsyncClient`` (httpx's default limits, paved's default timeout), through
   ``paved.service_client`` (default policy), and through ``Service.client`` (the same, with its counters
   in the service's /metrics: what a service's code gets). Clients alternate, in a new order each repeat;
   calls/s and CPU per call (``time.process_time``: what the client costs its caller) are medians.
2. Goodput against an overloaded upstream. A paved Service (``python -m paved serve``, default shedding:
   ``max_in_flight`` 64, ``queue_seconds`` 0.1) whose one route costs a fixed amount of CPU, new for each
   run. Its capacity first: the answers/s a closed loop of 32 callers gets, counted by the upstream. Then an
   open loop offering OVERLOAD × that capacity for SECONDS (bench/resilience_load.py, a process of its own
   per run, which reports its CPU and how late it sent each call), through a naive client that retries
   every failure, through paved's client, and (a diagnostic) through paved's with its breaker off. The
   upstream's /metrics count the attempts it took and the answers it gave; the generator counts the answers
   delivered within the deadline (the goodput). The upstream runs on uvloop, as `paved serve` does, and on
   asyncio's loop, because uvloop takes new connections slowly when its loop is busy (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paved
import psutil
import uvloop
from paved_platform.processes import free_port, stop
from resilience_load import closed_loop  # bench/ is on the path: it holds this script

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
SEQUENTIAL_CALLS = 1000
CONCURRENT_CALLS, CONCURRENCY = 1280, 16
CAPACITY_CONCURRENCY, CAPACITY_SECONDS = 32, 3
METRIC = re.compile(r"^http_(requests|shed)_total\{(.*)\} ([0-9.e+]+)$", re.M)


@contextmanager
def running(
    command: list[str], ready_url: str, *, env: dict[str, str] | None = None, grace: float = 10
) -> Iterator[psutil.Process]:
    """A server process until the block ends (then SIGTERM, SIGKILL after ``grace`` s), once ``ready_url``
    answers 200; its output goes to a file that is removed with it."""
    log = tempfile.NamedTemporaryFile(prefix="paved-bench-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        for _ in range(300):
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"{command} exited:\n{Path(log.name).read_text()[-2000:]}")
            time.sleep(0.05)
        else:
            raise SystemExit(f"{ready_url} never answered")
        yield psutil.Process(process.pid)
    finally:
        stop(process, grace=grace)
        log.close()
        Path(log.name).unlink()


def cpu_of(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


# --- 1. cost per call ---------------------------------------------------------------------------------


async def sequential(client: httpx.AsyncClient) -> None:
    for _ in range(SEQUENTIAL_CALLS):
        (await client.get("/album")).raise_for_status()


async def concurrent(client: httpx.AsyncClient) -> None:
    async def caller() -> None:
        for _ in range(CONCURRENT_CALLS // CONCURRENCY):
            (await client.get("/album")).raise_for_status()

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))


async def client_cost(url: str, repeats: int) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """calls/s and CPU s per call of each client, per mode, one sample per repeat."""
    caller = paved.Service(name="caller", version="bench", database=False)
    clients = {
        "bare httpx.AsyncClient": httpx.AsyncClient(base_url=url, timeout=5.0),
        "paved.service_client": paved.service_client(url, upstream="tiny"),
        "Service.client (with /metrics)": caller.client("tiny", url),
    }
    modes: dict[str, tuple[Callable[[httpx.AsyncClient], Any], int]] = {
        "sequential": (sequential, SEQUENTIAL_CALLS),
        f"{CONCURRENCY} at once": (concurrent, CONCURRENT_CALLS),
    }
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {m: {c: [] for c in clients} for m in modes}
    for client in clients.values():  # warm: connections open, code paths hot
        await concurrent(client)
    names = list(clients)
    for repeat in range(repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for mode, (run, calls) in modes.items():
            for name in order:
                cpu, started = time.process_time(), time.perf_counter()
                await run(clients[name])
                wall, used = time.perf_counter() - started, time.process_time() - cpu
                samples[mode][name].append((calls / wall, used / calls))
    for client in clients.values():
        await client.aclose()
    return samples


# --- 2. goodput against an overloaded upstream ---------------------------------------------------------


def counters(metrics: httpx.Client) -> dict[str, float]:
    """What the upstream received on /work (shed ones included: they never reach the route) and answered.

    ``metrics`` keeps its connection to the upstream open: a new one would wait behind the storm's
    connections in the upstream's listen queue."""
    text = metrics.get("/metrics").text
    found = {"attempts": 0.0, "ok": 0.0, "shed": 0.0}
    for kind, labels, value in METRIC.findall(text):
        if kind == "shed":
            found["shed"] += float(value)
        elif 'route="/work"' in labels:
            found["attempts"] += float(value)
            found["ok"] += float(value) if 'status="200"' in labels else 0.0
    found["attempts"] += found["shed"]
    return found


def listen_queue(port: int) -> int:
    """Connections the kernel has accepted for the upstream that its process has not taken yet."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: listening
            return int(fields[4].split(":")[1], 16)
    return 0


class QueueWatch(threading.Thread):
    """The deepest listen queue of the upstream while the block runs, sampled every 0.2 s."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.deepest, self.done = port, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.deepest = max(self.deepest, listen_queue(self.port))


def generate(url: str, *arguments: str) -> dict[str, Any]:
    out = subprocess.run(
        [PYTHON, str(BENCH / "resilience_load.py"), url, *arguments], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def upstream(service_ms: float, loop: str) -> Iterator[tuple[str, int, psutil.Process, httpx.Client]]:
    """A new overloadable upstream (``python -m paved serve``), killed at the end: a storm's leftovers in its
    queue would otherwise be the next run's load."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="paved-bench-") as folder:
        manifest = f'name = "worker"\napp = "resilience_upstream:create_service"\nport = {port}\n'
        (Path(folder) / "service.toml").write_text(manifest)
        env = {"PAVED_PORT": str(port), "PYTHONPATH": str(BENCH), "BENCH_SERVICE_MS": str(service_ms)}
        command = [PYTHON, "-m", "paved", "serve", "--service-dir", folder]
        limits = httpx.Limits(max_connections=1, keepalive_expiry=120)
        with (
            running(command, f"{url}/health/ready", env=env | {"BENCH_LOOP": loop}, grace=0) as process,
            httpx.Client(base_url=url, limits=limits, timeout=30) as metrics,
        ):
            yield url, port, process, metrics


def capacity(url: str, process: psutil.Process, metrics: httpx.Client) -> dict[str, float]:
    """The most the upstream answers with a well-behaved load: a closed loop under its ``max_in_flight``."""
    before, cpu = counters(metrics), cpu_of(process)
    seen = uvloop.run(closed_loop(url, concurrency=CAPACITY_CONCURRENCY, seconds=CAPACITY_SECONDS))
    after = counters(metrics)
    answered = after["ok"] - before["ok"]
    return {
        "ok_per_s": answered / seen["wall"],
        "cpu_per_ok": (cpu_of(process) - cpu) / max(answered, 1),
        "shed": after["shed"] - before["shed"],
        "caller_cores": seen["cpu"] / seen["wall"],
    }


def overload(arguments: argparse.Namespace, loop: str, variants: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per run: a new upstream, its capacity, then OVERLOAD × that through one variant; variants alternate."""
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for repeat in range(arguments.repeats):
        for variant in variants[repeat % len(variants) :] + variants[: repeat % len(variants)]:
            with upstream(arguments.service_ms, loop) as (url, port, process, metrics):
                measured = capacity(url, process, metrics)
                rate = arguments.overload * measured["ok_per_s"]
                before, cpu, started = counters(metrics), cpu_of(process), time.perf_counter()
                watch = QueueWatch(port)
                watch.start()
                seen = generate(
                    url,
                    variant,
                    *("--rate", f"{rate:.1f}", "--seconds", str(arguments.seconds)),
                    *("--deadline", str(arguments.deadline), "--replicas", str(arguments.replicas)),
                )
                left, used = listen_queue(port), cpu_of(process) - cpu
                elapsed = time.perf_counter() - started
                time.sleep(1.0)  # what was in flight at the end is answered, or not: counted either way
                watch.done.set()
                after = counters(metrics)
            seen |= {
                "capacity": measured,
                "upstream": {key: after[key] - before[key] for key in after},
                "upstream_cores": used / elapsed,
                "deepest_listen_queue": watch.deepest,
                "listen_queue_left": left,
            }
            runs[variant].append(seen)
            print(f"  {loop}, {variant}: {summary(seen)}", file=sys.stderr)
    return runs


def summary(run: dict[str, Any]) -> str:
    capacity = run["capacity"]["ok_per_s"]
    goodput = run["good"] / run["seconds"]
    return (
        f"capacity {capacity:.1f}/s, goodput {goodput:.1f}/s ({goodput / capacity:.2f} of it), "
        f"{run['upstream']['attempts'] / run['offered']:.2f} attempts per call at the upstream, "
        f"{run['upstream']['shed']:.0f} shed, generator {run['cpu'] / run['wall']:.2f} cores"
    )


# --- the report ----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    load = os.getloadavg()[0]
    return f"{platform.node()}, {cpu}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, load {load:.2f} at start"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cost_table(samples: dict[str, dict[str, list[tuple[float, float]]]]) -> list[str]:
    lines = [
        "| mode | client | calls/s | ratio to bare | CPU per call | added by the client |",
        "|---|---|---|---|---|---|",
    ]
    for mode, clients in samples.items():
        bare_rate = median([rate for rate, _ in clients["bare httpx.AsyncClient"]])
        bare_cpu = median([cpu for _, cpu in clients["bare httpx.AsyncClient"]])
        for name, runs in clients.items():
            rate, cpu = median([r for r, _ in runs]), median([c for _, c in runs])
            added = "" if name.startswith("bare") else f"{(cpu - bare_cpu) * 1e6:+.0f} µs"
            lines.append(f"| {mode} | {name} | {rate:.0f} | {rate / bare_rate:.2f} | {cpu * 1e6:.0f} µs | {added} |")
    return lines


def sent_per_call(run: dict[str, Any]) -> float:
    """Attempts the caller sent (its own count), per call."""
    if run["client_attempts"] is not None:
        return float(run["client_attempts"]) / run["offered"]
    counted = run["paved_counters"]
    sent = sum(value for name, value in counted.items() if name.startswith("upstream_attempts_total"))
    return sent / run["offered"]


LOOPS = {"uvloop": "uvloop (as `paved serve` runs)", "asyncio": "asyncio's loop (uvloop hidden)"}
# The breaker-less diagnostic where the upstream's shedding sees its queue (asyncio): the run stays ~5 min.
VARIANTS = {"uvloop": ["naive", "paved"], "asyncio": ["naive", "paved", "paved-no-breaker"]}
NAMES = {"naive": "naive retries", "paved": "paved", "paved-no-breaker": "paved, no breaker"}


def overload_table(by_loop: dict[str, dict[str, list[dict[str, Any]]]]) -> list[str]:
    def per_call(pick: Callable[[dict[str, Any]], float]) -> Callable[[dict[str, Any]], float]:
        return lambda run: pick(run) / run["offered"]

    rows: list[tuple[str, Callable[[dict[str, Any]], float], str]] = [
        ("capacity, measured just before (answers/s)", lambda r: r["capacity"]["ok_per_s"], "{:.1f}"),
        ("offered calls/s", lambda r: r["offered"] / r["seconds"], "{:.1f}"),
        ("attempts sent per call (the caller's count)", sent_per_call, "{:.2f}"),
        ("attempts the upstream took per call", per_call(lambda r: r["upstream"]["attempts"]), "{:.2f}"),
        ("of which it shed (503), per call", per_call(lambda r: r["upstream"]["shed"]), "{:.2f}"),
        ("answers (200) it gave per call", per_call(lambda r: r["upstream"]["ok"]), "{:.2f}"),
        ("**goodput**: 200 within the deadline /s", lambda r: r["good"] / r["seconds"], "**{:.1f}**"),
        ("**goodput ÷ capacity**", lambda r: r["good"] / r["seconds"] / r["capacity"]["ok_per_s"], "**{:.2f}**"),
        ("200 after the deadline /s", lambda r: r["late"] / r["seconds"], "{:.1f}"),
        ("good answers' p50 (ms)", lambda r: (r["good_p50"] or 0) * 1000, "{:.0f}"),
        ("good answers' p99 (ms)", lambda r: (r["good_p99"] or 0) * 1000, "{:.0f}"),
        ("upstream CPU during the load (cores)", lambda r: r["upstream_cores"], "{:.2f}"),
        ("deepest listen queue at the upstream", lambda r: r["deepest_listen_queue"], "{:.0f}"),
        ("its listen queue when the load stopped", lambda r: r["listen_queue_left"], "{:.0f}"),
        ("generator CPU (cores)", lambda r: r["cpu"] / r["wall"], "{:.2f}"),
        ("generator lateness p50 (ms)", lambda r: r["lag_p50"] * 1000, "{:.1f}"),
        ("generator lateness p99 (ms)", lambda r: r["lag_p99"] * 1000, "{:.1f}"),
    ]
    columns = [(loop, variant) for loop, runs in by_loop.items() for variant in runs]
    lines = [
        "| median of the runs | " + " | ".join(f"{NAMES[v]}, {loop}" for loop, v in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for label, value, shape in rows:
        cells = [shape.format(median([value(run) for run in by_loop[loop][v]])) for loop, v in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "What the callers saw, summed over the runs:", ""]
    lines += ["| outcome | " + " | ".join(f"{NAMES[v]}, {loop}" for loop, v in columns) + " |"]
    lines += ["|---|" + "---|" * len(columns)]
    outcomes = sorted(
        {o for runs in by_loop.values() for kind in runs.values() for run in kind for o in run["outcomes"]}
    )
    for outcome in outcomes:
        totals = [sum(run["outcomes"].get(outcome, 0) for run in by_loop[loop][v]) for loop, v in columns]
        lines.append(f"| {outcome} | " + " | ".join(str(total) for total in totals) + " |")
    pavings = [(loop, v) for loop, v in columns if v.startswith("paved")]
    lines += ["", "paved's own counters (each replica's /metrics), summed over its runs:", ""]
    lines += ["| counter | " + " | ".join(f"{NAMES[v]}, {loop}" for loop, v in pavings) + " |"]
    lines += ["|---|" + "---|" * len(pavings)]
    names = sorted({name for loop, v in pavings for run in by_loop[loop][v] for name in run["paved_counters"]})
    for name in names:
        totals = [sum(run["paved_counters"].get(name, 0) for run in by_loop[loop][v]) for loop, v in pavings]
        lines.append(f"| `{name}` | " + " | ".join(f"{total:.0f}" for total in totals) + " |")
    lines += ["", "Each run:", ""]
    for loop, runs in by_loop.items():
        for variant, kind in runs.items():
            lines.append(f"- {loop}, {variant}: " + "; ".join(summary(run) for run in kind))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="overload runs of each variant, alternating")
    parser.add_argument("--cost-repeats", type=int, default=5, help="cost runs of each client, alternating")
    parser.add_argument("--seconds", type=float, default=8.0, help="of offered load per overload run")
    parser.add_argument("--overload", type=float, default=2.0, help="offered load as a multiple of capacity")
    parser.add_argument("--deadline", type=float, default=2.0, help="seconds a call may take to count")
    parser.add_argument("--replicas", type=int, default=8, help="the caller's replicas, each with its own client")
    parser.add_argument("--service-ms", type=float, default=10.0, help="CPU per request of the upstream")
    parser.add_argument("--cost-only", action="store_true", help="the cost per call alone, printed, not written")
    arguments = parser.parse_args()
    started = datetime.now(UTC)
    header = machine()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print("cost per call…", file=sys.stderr)
    with running([PYTHON, str(BENCH / "resilience_upstream.py"), str(port)], f"{url}/album"):
        samples = uvloop.run(client_cost(url, arguments.cost_repeats))
    print("\n".join(cost_table(samples)), file=sys.stderr)
    if arguments.cost_only:
        return
    print("overload…", file=sys.stderr)
    by_loop = {loop: overload(arguments, loop, VARIANTS[loop]) for loop in LOOPS}
    took = datetime.now(UTC) - started

    report = "\n".join(
        [
            f"### {started:%Y-%m-%d %H:%M} UTC — {header}; the whole run {took.total_seconds():.0f} s",
            "",
            f"**Cost per call**: median of {arguments.cost_repeats} alternating runs ({SEQUENTIAL_CALLS} GETs one "
            f"after another; {CONCURRENT_CALLS} GETs {CONCURRENCY} at once) against a tiny Starlette app, uvloop "
            "on both sides; CPU is the calling process's.",
            "",
            *cost_table(samples),
            "",
            f"**Overload**: the upstream a paved Service (`python -m paved serve`), {arguments.service_ms:g} ms of "
            "CPU per request (4 slices), default shedding, on "
            + " and on ".join(LOOPS.values())
            + f"; a new one per run, its capacity measured first (closed loop, {CAPACITY_CONCURRENCY} callers, "
            f"{CAPACITY_SECONDS} s), then {arguments.overload:g}× that offered for {arguments.seconds:g} s, open "
            f"loop, over {arguments.replicas} caller replicas, deadline {arguments.deadline:g} s; "
            f"{arguments.repeats} runs of each, alternating.",
            "",
            *overload_table(by_loop),
            "",
        ]
    )
    print(report)
    out = BENCH / "results" / f"{started:%Y-%m-%d-%H%M}-resilience.md"
    out.write_text(report)
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
