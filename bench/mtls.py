"""Issue 14 benchmark: what mutual TLS costs one hop. One run, one report: bench/results/<date>-mtls.md (~2 min).

Run by `make bench`, or alone: .venv/bin/python bench/mtls.py [--repeats 5] [--seconds 4] [--concurrency 16].

Two `python -m paved serve` processes of the same service (bench/mtls_upstream.py), one on plain HTTP and one
with a workload certificate from paved_platform.pki (mutual TLS, the caller's allow-list checked on each
call). In this process, a paved Service's client (``Service.client``: kept connections, the default policy)
calls each in turn for SECONDS with CONCURRENCY callers, in a new order each repeat; the report gives the
median calls/s of each, the ratio, and the upstream's CPU per call. The target (issue 14): at most 10% fewer
calls/s with mutual TLS than without, connections reused.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import paved
import psutil
from paved_platform.pki import CertificateAuthority, WorkloadFiles, spiffe_id
from paved_platform.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


@contextmanager
def upstream(folder: Path, files: WorkloadFiles | None) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    scheme = "https" if files else "http"
    service_dir = folder / scheme
    service_dir.mkdir()
    (service_dir / "service.toml").write_text(f'name = "shelf"\napp = "mtls_upstream:create_service"\nport = {port}\n')
    env = {**os.environ, "PAVED_PORT": str(port), "PYTHONPATH": str(BENCH), "PAVED_LOG_LEVEL": "WARNING"}
    if files:
        env |= {
            "PAVED_TLS_CERT_FILE": str(files.cert_file),
            "PAVED_TLS_KEY_FILE": str(files.key_file),
            "PAVED_TLS_CA_FILE": str(files.ca_file),
        }
    log = (folder / f"{scheme}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "paved", "serve", "--service-dir", str(service_dir)], env=env, stdout=log, stderr=log
    )
    url = f"{scheme}://127.0.0.1:{port}"
    verify = paved_verify(files)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health/ready", verify=verify, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise SystemExit(f"{url} never answered: {(folder / f'{scheme}.log').read_text()[-2000:]}")
        yield url, psutil.Process(process.pid)
    finally:
        stop(process, grace=5)
        log.close()


def paved_verify(files: WorkloadFiles | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=files.ca_file) if files else True


async def calls_per_second(client: httpx.AsyncClient, *, seconds: float, concurrency: int) -> int:
    done = 0
    ends = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < ends:
            (await client.get("/album")).raise_for_status()
            done += 1

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return round(done / seconds)


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def measure(arguments: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="paved-bench-mtls-") as name:
        folder = Path(name)
        ca = CertificateAuthority(folder / "pki")
        lifetime = dt.timedelta(hours=1)
        server_files = ca.issue(
            spiffe_id("service", "shelf"), WorkloadFiles(folder / "pki" / "shelf"), lifetime=lifetime
        )
        caller_files = ca.issue(
            spiffe_id("service", "bench"), WorkloadFiles(folder / "pki" / "bench"), lifetime=lifetime
        )
        os.environ |= {
            "PAVED_TLS_CERT_FILE": str(caller_files.cert_file),
            "PAVED_TLS_KEY_FILE": str(caller_files.key_file),
            "PAVED_TLS_CA_FILE": str(caller_files.ca_file),
        }
        with_tls = paved.Service(name="bench", version="bench", database=False)
        for variable in ("PAVED_TLS_CERT_FILE", "PAVED_TLS_KEY_FILE", "PAVED_TLS_CA_FILE"):
            del os.environ[variable]
        without_tls = paved.Service(name="bench", version="bench", database=False)
        with upstream(folder, None) as (plain_url, plain), upstream(folder, server_files) as (tls_url, secured):
            clients = {
                "plain HTTP": (without_tls.client("shelf", plain_url), plain),
                "mutual TLS": (with_tls.client("shelf", tls_url), secured),
            }
            samples: dict[str, list[tuple[int, float]]] = {name: [] for name in clients}
            for client, _ in clients.values():  # warm: connections made, code paths hot
                await calls_per_second(client, seconds=1, concurrency=arguments.concurrency)
            for _ in range(arguments.repeats):
                order = list(clients)
                random.shuffle(order)
                for variant in order:
                    client, process = clients[variant]
                    before = cpu(process)
                    rate = await calls_per_second(client, seconds=arguments.seconds, concurrency=arguments.concurrency)
                    per_call = (cpu(process) - before) / (rate * arguments.seconds)
                    samples[variant].append((rate, per_call))
            for client, _ in clients.values():
                await client.aclose()
    return report(samples, arguments)


def report(samples: dict[str, list[tuple[int, float]]], arguments: argparse.Namespace) -> str:
    rates = {name: statistics.median(rate for rate, _ in runs) for name, runs in samples.items()}
    ratio = rates["mutual TLS"] / rates["plain HTTP"]
    lines = [
        f"# mutual TLS, one hop: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.",
        f"{arguments.repeats} repeats of {arguments.seconds} s per variant, {arguments.concurrency} callers, "
        "a paved Service's client (kept connections) to `python -m paved serve`.",
        "",
        "| variant | calls/s (median) | every repeat | upstream CPU per call (median) |",
        "|---|---|---|---|",
    ]
    for name, runs in samples.items():
        every = ", ".join(str(rate) for rate, _ in runs)
        per_call = statistics.median(c for _, c in runs) * 1e6
        lines.append(f"| {name} | {rates[name]:.0f} | {every} | {per_call:.0f} µs |")
    verdict = "within" if ratio >= 0.9 else "outside"
    lines += ["", f"mutual TLS / plain: **{ratio:.2f}** of the throughput ({verdict} the target of at least 0.90)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=16)
    arguments = parser.parse_args()
    text = asyncio.run(measure(arguments))
    print(text)
    results = BENCH / "results" / f"{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M}-mtls.md"
    results.write_text(text)


if __name__ == "__main__":
    main()
