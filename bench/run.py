"""Benchmarks of issue 2: `paved up` cold start, and catalog list throughput against bare FastAPI.

Run by `make bench`. Needs wrk (Debian: apt-get install wrk), the load generator, which is not the code
under test. Prints a Markdown report and writes it to bench/results/<date>.md.
"""

from __future__ import annotations

import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAVED = ROOT / ".venv" / "bin" / "paved"
CATALOG_PYTHON = ROOT / "services" / "catalog" / ".venv" / "bin" / "python"
RUNS = 5
WRK = ["wrk", "-t1", "-c16", "-d10s", "--latency"]


def start_up(state: Path) -> tuple[subprocess.Popen[bytes], float, Path]:
    out = state.parent / f"{state.name}.out"
    started = time.perf_counter()
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [PAVED, "up", "--free-ports", "--state-dir", state], stdout=sink, stderr=subprocess.STDOUT
        )
    while "stops everything" not in out.read_text(errors="replace"):
        if process.poll() is not None:
            raise SystemExit(f"paved up failed:\n{out.read_text()}")
        time.sleep(0.02)
    return process, time.perf_counter() - started, out


def catalog_url(state: Path) -> str:
    import json

    return json.loads((state / "run.json").read_text())["services"]["catalog"]["url"]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def start_times(folder: Path) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for run in range(RUNS):
        state = folder / f"start-{run}"
        process, seconds, _ = start_up(state)
        cold.append(seconds)
        stop(process)
        process, seconds, _ = start_up(state)  # same state: migrations have nothing to do
        warm.append(seconds)
        stop(process)
    return cold, warm


def wrk(url: str) -> dict[str, float]:
    output = subprocess.run([*WRK, url], capture_output=True, text=True, check=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}

    def latency(percent: str) -> float:
        value, suffix = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()  # type: ignore[union-attr]
        return float(value) * unit[suffix]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw errors:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": latency("50"),
        "p99": latency("99"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} never answered")


def throughput(folder: Path) -> dict[str, list[dict[str, float]]]:
    state = folder / "throughput"
    process, _, _ = start_up(state)
    urls = {"paved": f"{catalog_url(state)}/albums?limit=20"}
    database = folder / "peer.db"
    shutil.copy(state / "data" / "catalog.db", database)
    peers = []
    # The peer as a team would write it (default pool), and with paved's SQLite pool, to separate the
    # framework's overhead from the pool's effect.
    for name, pool in (("bare", []), ("bare-pool2", ["2"])):
        port = free_port()
        peers.append(subprocess.Popen([CATALOG_PYTHON, ROOT / "bench" / "bare_catalog.py", database, str(port), *pool]))
        urls[name] = f"http://127.0.0.1:{port}/albums?limit=20"
    results: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    try:
        for url in urls.values():
            wait_for(url)
            if httpx.get(url).json() != httpx.get(urls["paved"]).json():
                raise SystemExit(f"{url} does not answer the same as the catalog")
            subprocess.run(["wrk", "-t1", "-c16", "-d2s", url], capture_output=True, check=True)  # warm-up
        for _ in range(3):  # alternate, so drift in the machine's load hits all alike
            for name, url in urls.items():
                results[name].append(wrk(url))
    finally:
        for peer in peers:
            peer.terminate()
            peer.wait()
        stop(process)
    return results


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("the benchmark needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="paved-bench-") as name:
        folder = Path(name)
        cold, warm = start_times(folder)
        load = throughput(folder)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50", "p99")} for k, v in load.items()}
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    report = f"""### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, {cpu}, {len(__import__("os").sched_getaffinity(0))} cores, Python {platform.python_version()}

`paved up` to all-ready, catalog + NATS, median of {RUNS} (min–max):

| start | median | range |
|---|---|---|
| cold (new `.paved/`: migrate + seed) | {statistics.median(cold):.2f} s | {min(cold):.2f}–{max(cold):.2f} s |
| warm (existing `.paved/`) | {statistics.median(warm):.2f} s | {min(warm):.2f}–{max(warm):.2f} s |

`GET /albums?limit=20` (same query, same SQLite file, same uvicorn settings, one worker each), `{" ".join(WRK)}`, median of 3 alternating runs:

| server | requests/s | p50 | p99 |
|---|---|---|---|
| catalog on paved | {med["paved"]["rps"]:.0f} | {med["paved"]["p50"]:.2f} ms | {med["paved"]["p99"]:.2f} ms |
| bare FastAPI, default pool | {med["bare"]["rps"]:.0f} | {med["bare"]["p50"]:.2f} ms | {med["bare"]["p99"]:.2f} ms |
| bare FastAPI, aiosqlite pool of 2 (its best here) | {med["bare-pool2"]["rps"]:.0f} | {med["bare-pool2"]["p50"]:.2f} ms | {med["bare-pool2"]["p99"]:.2f} ms |
| ratio paved / bare (default pool) | {med["paved"]["rps"] / med["bare"]["rps"]:.2f} | {med["paved"]["p50"] / med["bare"]["p50"]:.2f} | {med["paved"]["p99"] / med["bare"]["p99"]:.2f} |
| ratio paved / bare (pool of 2) | {med["paved"]["rps"] / med["bare-pool2"]["rps"]:.2f} | {med["paved"]["p50"] / med["bare-pool2"]["p50"]:.2f} | {med["paved"]["p99"] / med["bare-pool2"]["p99"]:.2f} |
"""
    print(report)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    out.write_text(report)
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
