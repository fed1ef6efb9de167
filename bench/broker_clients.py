"""What a broker client costs every service process: import time and resident memory, FastStream against
the drivers paved uses directly (issue 12: does FastStream earn its place on the service path?).

Each import runs in a fresh interpreter (the cost a service pays at start-up), RUNS times, interleaved, so
the machine's noise falls on both alike; the median is reported. Run by `make bench`; writes
bench/results/<date>-broker-clients.md.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
IMPORTS = {
    "nats-py (paved 0.2)": "import nats, nats.js",
    "faststream.nats (paved 0.1)": "import faststream.nats",
    "aio-pika (paved 0.2)": "import aio_pika",
    "faststream.rabbit (paved 0.1)": "import faststream.rabbit",
}
PROBE = """
import json, resource, time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
print(json.dumps({{"ms": elapsed * 1000, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(statement: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in IMPORTS}
    for _ in range(RUNS):
        for name, statement in IMPORTS.items():
            samples[name].append(measure(statement))
    now = datetime.now(UTC)
    lines = [
        f"### {now:%Y-%m-%d %H:%M} UTC — {platform.node()}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, median of {RUNS} fresh interpreters each",
        "",
        "| import | time | resident memory |",
        "|---|---|---|",
    ]
    for name, runs in samples.items():
        ms = statistics.median(run["ms"] for run in runs)
        rss = statistics.median(run["rss_mib"] for run in runs)
        lines.append(f"| {name} | {ms:.0f} ms | {rss:.0f} MiB |")
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / "results" / f"{now:%Y-%m-%d-%H%M}-broker-clients.md").write_text(report)


if __name__ == "__main__":
    main()
