"""The client's stability patterns, each against its failure: breaker, retry budget, bulkhead, deadline.

The breaker and the budget run on a hand-moved clock; the client runs on httpx's MockTransport (the
network faked, the policy real). Real upstreams and real faults are in system-tests/test_resilience.py.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import generate_latest

from paved import _context as context
from paved._client import service_client
from paved._metrics import ServiceMetrics
from paved._resilience import (
    REJECTED,
    TIMEOUT_HEADER,
    BreakerPolicy,
    BulkheadPolicy,
    CircuitBreaker,
    CircuitState,
    DeadlineExceeded,
    RetryBudget,
    RetryPolicy,
    UpstreamPolicy,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Retries without waiting: the tests count attempts, not seconds.
FAST = RetryPolicy(backoff_initial_seconds=0.0001, backoff_max_seconds=0.0001)


def policy(**changes: object) -> UpstreamPolicy:
    return UpstreamPolicy(retry=FAST).model_copy(update=changes)


# --- the breaker ---------------------------------------------------------------------------------------


def test_the_breaker_opens_on_consecutive_failures_and_refuses_until_it_half_opens() -> None:
    clock = Clock()
    changes: list[CircuitState] = []
    breaker = CircuitBreaker(
        BreakerPolicy(consecutive_failures=3, open_seconds=5, open_jitter=0), on_change=changes.append, clock=clock
    )
    for _ in range(3):
        assert breaker.allow()
        breaker.record(ok=False)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == pytest.approx(5)
    clock.now += 5
    assert breaker.allow(), "after open_seconds a probe goes through"
    assert breaker.state is CircuitState.HALF_OPEN
    assert changes == [CircuitState.OPEN, CircuitState.HALF_OPEN]


def test_a_half_open_breaker_lets_only_its_probes_through_and_closes_on_their_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        BreakerPolicy(consecutive_failures=1, open_seconds=1, open_jitter=0, probes=2), clock=clock
    )
    breaker.record(ok=False)
    clock.now += 1
    assert breaker.allow() and breaker.allow()
    assert not breaker.allow(), "only two probes at once"
    breaker.record(ok=True)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.record(ok=True)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()


def test_a_failed_probe_opens_the_circuit_again_and_a_cancelled_one_frees_its_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        BreakerPolicy(consecutive_failures=1, open_seconds=1, open_jitter=0, probes=1), clock=clock
    )
    breaker.record(ok=False)
    clock.now += 1
    assert breaker.allow()
    breaker.release()  # cancelled: no outcome
    assert breaker.allow(), "the probe's slot is free again"
    breaker.record(ok=False)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()


def test_the_breaker_opens_on_a_failure_rate_only_over_its_minimum_of_calls() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        BreakerPolicy(failure_rate=0.5, minimum_calls=10, consecutive_failures=100, window_seconds=10), clock=clock
    )
    for _ in range(4):  # 4 of 8 failed: half, but under the minimum
        breaker.record(ok=True)
        breaker.record(ok=False)
    assert breaker.state is CircuitState.CLOSED
    breaker.record(ok=True)
    breaker.record(ok=False)  # 5 of 10
    assert breaker.state is CircuitState.OPEN


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        BreakerPolicy(failure_rate=0.5, minimum_calls=4, consecutive_failures=100, window_seconds=10), clock=clock
    )
    for _ in range(3):
        breaker.record(ok=False)
    clock.now += 11
    breaker.record(ok=True)
    breaker.record(ok=False)
    breaker.record(ok=True)
    breaker.record(ok=True)  # 1 of 4 in the window
    assert breaker.state is CircuitState.CLOSED


# --- the retry budget ----------------------------------------------------------------------------------


def test_the_retry_budget_allows_its_ratio_of_the_calls_plus_the_floor() -> None:
    clock = Clock()
    budget = RetryBudget(RetryPolicy(budget_ratio=0.2, budget_floor_per_second=0.5, budget_window_seconds=10), clock)
    for _ in range(100):
        budget.record_call()
    spent = sum(budget.try_spend() for _ in range(100))
    assert spent == 20 + 5
    clock.now += 11
    assert budget.try_spend(), "an old window's retries no longer count"


# --- the client ----------------------------------------------------------------------------------------


class Upstream:
    """A faked upstream that answers from a list of statuses (the last one repeats), counting attempts."""

    def __init__(self, *statuses: int, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.delay = delay
        self.attempts = 0
        self.seen: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        self.seen.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, headers=self.headers, json={})


async def test_an_idempotent_call_is_retried_past_a_503_and_a_post_is_not() -> None:
    upstream = Upstream(503, 200)
    async with service_client("http://catalog", policy=policy(), transport=httpx.MockTransport(upstream)) as client:
        assert (await client.get("/albums")).status_code == 200
        assert upstream.attempts == 2
        upstream.statuses = [503, 200]
        assert (await client.post("/orders", json={})).status_code == 503
        assert upstream.attempts == 3, "a POST is not retried"
        upstream.statuses = [503, 200]
        answer = await client.post("/orders", json={}, headers={"Idempotency-Key": "k1"})
        assert answer.status_code == 200, "a POST with an Idempotency-Key is"


async def test_retries_stop_at_the_attempts_and_give_back_the_last_answer() -> None:
    upstream = Upstream(503)
    async with service_client("http://catalog", policy=policy(), transport=httpx.MockTransport(upstream)) as client:
        assert (await client.get("/albums")).status_code == 503
    assert upstream.attempts == 3


async def test_a_4xx_is_an_answer_not_a_failure() -> None:
    upstream = Upstream(404)
    async with service_client("http://catalog", policy=policy(), transport=httpx.MockTransport(upstream)) as client:
        for _ in range(10):
            assert (await client.get("/albums/x")).status_code == 404
    assert upstream.attempts == 10, "neither retried nor breaking the circuit"


async def test_retry_after_is_waited_for() -> None:
    upstream = Upstream(503, 200, headers={"Retry-After": "1"})
    async with service_client("http://catalog", policy=policy(), transport=httpx.MockTransport(upstream)) as client:
        started = time.monotonic()
        assert (await client.get("/albums")).status_code == 200
    assert time.monotonic() - started >= 1.0


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for() -> None:
    upstream = Upstream(503, 200, headers={"Retry-After": "30"})
    transport = httpx.MockTransport(upstream)
    async with service_client("http://catalog", policy=policy(timeout_seconds=1), transport=transport) as client:
        assert (await client.get("/albums")).status_code == 503
    assert upstream.attempts == 1


async def test_the_budget_caps_the_attempts_an_upstream_in_trouble_sees() -> None:
    """Half the answers are 503s: naive retries would nearly double the traffic; the budget keeps it ~1.2x."""
    upstream = Upstream(*[503, 200] * 300)
    lenient = policy(breaker=BreakerPolicy(failure_rate=1.0, consecutive_failures=1000))
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.MockTransport(upstream)
    async with service_client(
        "http://catalog", upstream="catalog", policy=lenient, transport=transport, metrics=metrics.upstreams
    ) as client:
        for _ in range(400):
            await client.get("/albums")
    assert upstream.attempts <= 400 * 1.2 + 10
    exposition = generate_latest(metrics.registry).decode()
    assert 'upstream_retry_budget_exhausted_total{upstream="catalog"}' in exposition
    assert 'upstream_calls_total{upstream="catalog"} 400.0' in exposition


async def test_an_open_circuit_answers_503_at_once_naming_the_upstream() -> None:
    upstream = Upstream(500)
    tripping = policy(retry=FAST.model_copy(update={"attempts": 1}), breaker=BreakerPolicy(consecutive_failures=3))
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.MockTransport(upstream)
    async with service_client(
        "http://catalog:8101", upstream="catalog", policy=tripping, transport=transport, metrics=metrics.upstreams
    ) as client:
        for _ in range(3):
            assert (await client.get("/albums")).status_code == 500
        refused = await client.get("/albums")
    assert upstream.attempts == 3, "the fourth call never reached the upstream"
    assert refused.status_code == 503
    assert refused.headers[REJECTED] == "circuit-open"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["upstream"] == "catalog" and "circuit is open" in refused.json()["detail"]
    exposition = generate_latest(metrics.registry).decode()
    assert 'circuit_state{instance="catalog:8101",upstream="catalog"} 2.0' in exposition
    assert 'upstream_rejected_total{reason="circuit_open",upstream="catalog"} 1.0' in exposition


async def test_the_circuit_is_per_instance() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500 if request.url.host == "sick" else 200)

    tripping = policy(retry=FAST.model_copy(update={"attempts": 1}), breaker=BreakerPolicy(consecutive_failures=2))
    async with service_client("http://sick", policy=tripping, transport=httpx.MockTransport(answer)) as client:
        for _ in range(3):
            await client.get("http://sick/x")
        assert (await client.get("http://sick/x")).headers.get(REJECTED) == "circuit-open"
        assert (await client.get("http://well/x")).status_code == 200


async def test_the_bulkhead_refuses_what_neither_fits_nor_queues() -> None:
    upstream = Upstream(200, delay=0.3)
    narrow = policy(bulkhead=BulkheadPolicy(max_concurrent=2, max_queued=1))
    async with service_client("http://catalog", policy=narrow, transport=httpx.MockTransport(upstream)) as client:
        answers = await asyncio.gather(*(client.get("/albums") for _ in range(5)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 200, 503, 503], "two at once, one queued, two refused"
    assert upstream.attempts == 3
    assert {a.headers.get(REJECTED) for a in answers if a.status_code == 503} == {"bulkhead-full"}


class StreamedBody(httpx.AsyncByteStream):
    """A body that arrives after the headers, as over the network."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{}"


async def test_a_slow_body_holds_its_bulkhead_slot_until_read() -> None:
    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=StreamedBody())

    narrow = policy(bulkhead=BulkheadPolicy(max_concurrent=1, max_queued=0))
    async with service_client("http://catalog", policy=narrow, transport=httpx.MockTransport(streamed)) as client:
        async with client.stream("GET", "/albums") as streamed:
            assert (await client.get("/albums")).status_code == 503, "the open stream holds the only slot"
            await streamed.aread()
        assert (await client.get("/albums")).status_code == 200, "closed: the slot is free"


async def test_a_call_with_no_time_left_fails_at_once_without_the_network() -> None:
    upstream = Upstream(200)
    token = context.deadline.set(time.monotonic() - 0.001)
    try:
        async with service_client("http://catalog", transport=httpx.MockTransport(upstream)) as client:
            with pytest.raises(DeadlineExceeded):
                await client.get("/albums")
    finally:
        context.deadline.reset(token)
    assert upstream.attempts == 0


async def test_a_call_gets_what_is_left_of_the_request_s_deadline() -> None:
    upstream = Upstream(200, delay=5)
    token = context.deadline.set(time.monotonic() + 0.3)
    try:
        async with service_client("http://catalog", transport=httpx.MockTransport(upstream)) as client:
            started = time.monotonic()
            with pytest.raises(httpx.TimeoutException):
                await client.get("/albums")
    finally:
        context.deadline.reset(token)
    assert time.monotonic() - started < 2, "cut at the request's deadline, not the client's 5 s"
    assert 0 < int(upstream.seen[0].headers[TIMEOUT_HEADER]) <= 300, "the callee is told what is left"


async def test_a_connection_refused_is_retried_even_for_a_post() -> None:
    """Never sent, so safe to send again whatever the method."""
    attempts = 0

    async def refuse_once(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201)

    async with service_client("http://order", policy=policy(), transport=httpx.MockTransport(refuse_once)) as client:
        assert (await client.post("/orders", json={})).status_code == 201
    assert attempts == 2


def test_policies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from paved import ServiceSettings

    monkeypatch.setenv("PAVED_UPSTREAMS__CATALOG__TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("PAVED_UPSTREAMS__CATALOG__BREAKER__OPEN_SECONDS", "1")
    settings = ServiceSettings()
    assert settings.upstreams["catalog"].timeout_seconds == 2.5
    assert settings.upstreams["catalog"].breaker.open_seconds == 1
    assert settings.upstreams["catalog"].retry.attempts == 3, "what is not set keeps its default"


async def test_a_service_s_client_has_its_upstream_s_policy_counts_in_metrics_and_closes_at_stop() -> None:
    from paved import Service, ServiceSettings

    closed = []

    class Network(httpx.MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    settings = ServiceSettings(upstreams={"catalog": UpstreamPolicy(retry=RetryPolicy(attempts=1))})
    service = Service(name="shop", version="0", settings=settings, database=False)
    upstream = Upstream(503)
    client = service.client("catalog", "http://catalog", transport=Network(upstream))
    async with service.running():
        assert (await client.get("/albums")).status_code == 503
        assert upstream.attempts == 1, "the catalog's own policy: one attempt"
        exposition = generate_latest(service.metrics.registry).decode()
        assert 'upstream_attempts_total{outcome="5xx",upstream="catalog"} 1.0' in exposition
    assert closed == [True]


async def test_a_route_s_deadline_shortens_the_service_s() -> None:
    from fastapi import FastAPI

    from paved import route_deadline
    from paved._middleware import RequestContextMiddleware

    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=ServiceMetrics(service="t", version="1"))

    @app.get("/quick", dependencies=[route_deadline(0.5)])
    async def quick() -> dict[str, float]:
        deadline = context.deadline.get()
        assert deadline is not None
        return {"left": deadline - time.monotonic()}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert 0 < (await client.get("/quick")).json()["left"] <= 0.5
        asked = await client.get("/quick", headers={TIMEOUT_HEADER: "100"})
        assert 0 < asked.json()["left"] <= 0.1, "a caller's shorter deadline wins"


async def test_a_503_a_service_answers_does_not_break_its_circuit_and_a_proxy_s_does() -> None:
    """order says 503 while the catalog is down, or sheds: order is well ("not now", "slow down"), and its
    other calls must go on; a proxy's plain 503 counts."""

    def answer(kind: str) -> httpx.Response:
        if kind == "partner-down":
            return httpx.Response(503, headers={"content-type": "application/problem+json"}, content=b"{}")
        if kind == "shed":
            headers = {"content-type": "application/problem+json", "x-paved-shed": "over-capacity"}
            return httpx.Response(503, headers=headers, content=b"{}")
        return httpx.Response(503, content=b"upstream connect error")

    once = policy(retry=FAST.model_copy(update={"attempts": 1}), breaker=BreakerPolicy(consecutive_failures=3))
    for kind, opens in (("partner-down", False), ("shed", False), ("proxy", True)):
        transport = httpx.MockTransport(functools.partial(lambda kind, _: answer(kind), kind))
        async with service_client("http://order", policy=once, transport=transport) as client:
            for _ in range(4):
                last = await client.get("/orders")
        assert (REJECTED in last.headers) is opens, kind


def test_breakers_that_open_together_half_open_apart() -> None:
    """Replicas that saw the same overload open in the same moment; their openings last different times."""
    clock = Clock()
    breakers = [CircuitBreaker(BreakerPolicy(consecutive_failures=1, open_seconds=2), clock=clock) for _ in range(8)]
    for breaker in breakers:
        breaker.record(ok=False)
    waits = sorted(breaker.retry_after() for breaker in breakers)
    assert all(2 <= wait <= 3 for wait in waits)
    assert waits[-1] - waits[0] > 0.1
