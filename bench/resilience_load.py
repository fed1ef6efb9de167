"""The load generator of bench/resilience.py's overload bench, a process of its own (uvloop), one per run.

``closed``: CONCURRENCY callers each send the next GET when the last is answered, bare httpx, no retries:
a well-behaved load, to measure the upstream's capacity (bench/resilience.py runs ``closed_loop`` itself). ``naive`` and ``paved``: open loop, a call due
every 1/RATE s for SECONDS whatever the upstream does (latency counts from when it was due, so a slow
upstream cannot slow its own load down), spread round-robin over REPLICAS clients (the caller's replicas:
each its own connection pool, and for paved its own budget, breaker and bulkhead). Each call must be
answered within DEADLINE s of being due to count as goodput.

- naive: ``httpx.AsyncClient(timeout=DEADLINE)`` with the loop a team writes by hand: any 5xx or transport
  error (timeouts included) is tried again after 10 ms, up to 5 attempts.
- paved: each replica a ``paved.Service`` whose ``client("worker", url)`` is ``paved.service_client`` with the
  default policy but for ``timeout_seconds=DEADLINE``, its counters in the service's metrics.
- paved-no-breaker: the same with a breaker that never opens, to tell the breaker's part from the rest.

Prints one JSON object: what the callers saw, and what the generator itself cost (CPU, how late it sent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import paved
import uvloop

NAIVE_ATTEMPTS = 5
NAIVE_DELAY = 0.01
Call = Callable[[httpx.AsyncClient], Awaitable[str]]


def outcome_of(response: httpx.Response) -> str:
    if response.status_code == 200:
        return "ok"
    # paved's client answers for the upstream when it refuses a call itself (circuit open, bulkhead full).
    refused = response.headers.get("x-paved-rejected")
    return f"refused by the client: {refused}" if refused else f"{response.status_code} from the upstream"


class Naive:
    """What a team writes by hand: every failure tried again, soon, a fixed number of times."""

    def __init__(self) -> None:
        self.attempts = 0

    async def __call__(self, client: httpx.AsyncClient) -> str:
        outcome = "?"
        for attempt in range(NAIVE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(NAIVE_DELAY)
            self.attempts += 1
            try:
                response = await client.get("/work")
            except httpx.TimeoutException as error:
                outcome = f"timeout ({type(error).__name__})"
                continue
            except httpx.TransportError as error:
                outcome = f"error ({type(error).__name__})"
                continue
            outcome = outcome_of(response)
            if response.status_code < 500:
                return outcome
        return outcome


async def paved_call(client: httpx.AsyncClient) -> str:
    try:
        response = await client.get("/work")
    except paved.DeadlineExceeded:
        return "no time left (the client did not send it)"
    except httpx.TimeoutException as error:
        return f"timeout ({type(error).__name__})"
    except httpx.TransportError as error:
        return f"error ({type(error).__name__})"
    return outcome_of(response)


def paved_counters(callers: list[paved.Service]) -> dict[str, float]:
    """paved's upstream counters (what a service's /metrics shows), summed over the replicas."""
    totals: dict[str, float] = Counter()
    for caller in callers:
        for metric in caller.metrics.registry.collect():
            if not metric.name.startswith("upstream_"):
                continue
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    detail = sample.labels.get("outcome") or sample.labels.get("reason")
                    totals[sample.name + (f" {detail}" if detail else "")] += sample.value
    return dict(totals)


def pct(values: list[float], q: float) -> float | None:
    return sorted(values)[int(q / 100 * (len(values) - 1))] if values else None


async def closed_loop(url: str, *, concurrency: int, seconds: float) -> dict[str, object]:
    outcomes: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        ends = time.perf_counter() + seconds

        async def caller() -> None:
            while time.perf_counter() < ends:
                outcomes[outcome_of(await client.get("/work"))] += 1

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"outcomes": dict(outcomes), "wall": wall, "cpu": time.process_time() - cpu}


async def open_loop(
    url: str, *, variant: str, rate: float, seconds: float, deadline: float, replicas: int
) -> dict[str, object]:
    naive = Naive()
    callers: list[paved.Service] = []
    if variant == "naive":
        clients = [httpx.AsyncClient(base_url=url, timeout=deadline) for _ in range(replicas)]
        call: Call = naive
    else:
        # Service.client is service_client with the service's policy (the default here) and its counters.
        policy = paved.UpstreamPolicy(timeout_seconds=deadline)
        if variant == "paved-no-breaker":
            never = paved.BreakerPolicy(minimum_calls=10**9, consecutive_failures=10**9)
            policy = policy.model_copy(update={"breaker": never})
        settings = paved.ServiceSettings(upstreams={"worker": policy})
        callers = [
            paved.Service(name="caller", version="bench", database=False, settings=settings) for _ in range(replicas)
        ]
        clients = [caller.client("worker", url) for caller in callers]
        call = paved_call
    outcomes: Counter[str] = Counter()
    good: list[float] = []  # latency of each answer within the deadline
    late: list[float] = []  # of each success after it
    lags: list[float] = []  # how late the generator started each call

    async def one(index: int, due: float) -> None:
        lags.append(time.perf_counter() - due)
        outcome = await call(clients[index % replicas])
        took = time.perf_counter() - due
        if outcome == "ok":
            (good if took <= deadline else late).append(took)
            outcome = "ok within the deadline" if took <= deadline else "ok, but after the deadline"
        outcomes[outcome] += 1

    count = int(rate * seconds)
    pending: set[asyncio.Task[None]] = set()
    cpu, start = time.process_time(), time.perf_counter() + 0.01
    sent = 0
    while sent < count:
        now = time.perf_counter()
        while sent < count and start + sent / rate <= now:
            task = asyncio.create_task(one(sent, start + sent / rate))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        await asyncio.sleep(max(start + sent / rate - time.perf_counter(), 0))
    # Calls still going one deadline after the last was due have failed it; a naive caller would keep
    # retrying them, which is cut short here (its attempts per request are, if anything, undercounted).
    _, unfinished = await asyncio.wait(pending, timeout=deadline + 0.5) if pending else (set(), set())
    for task in unfinished:
        task.cancel()
    outcomes["unfinished (cancelled at the end)"] += len(unfinished)
    wall = time.perf_counter() - start
    used = time.process_time() - cpu
    for client in clients:
        await client.aclose()
    return {
        "offered": count,
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "good": len(good),
        "late": len(late),
        "good_p50": pct(good, 50),
        "good_p99": pct(good, 99),
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "client_attempts": naive.attempts if variant == "naive" else None,
        "paved_counters": paved_counters(callers),
        "wall": wall,
        "cpu": used,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("variant", choices=("closed", "naive", "paved", "paved-no-breaker"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop: callers at once")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: calls due per second")
    parser.add_argument("--deadline", type=float, default=1.0, help="open loop: seconds a call may take")
    parser.add_argument("--replicas", type=int, default=4, help="open loop: the caller's replicas (clients)")
    arguments = parser.parse_args()
    if arguments.variant == "closed":
        work = closed_loop(arguments.url, concurrency=arguments.concurrency, seconds=arguments.seconds)
    else:
        work = open_loop(
            arguments.url,
            variant=arguments.variant,
            rate=arguments.rate,
            seconds=arguments.seconds,
            deadline=arguments.deadline,
            replicas=arguments.replicas,
        )
    print(json.dumps(uvloop.run(work)))


if __name__ == "__main__":
    main()
