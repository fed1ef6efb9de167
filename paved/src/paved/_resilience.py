"""The stability patterns of every outbound call: a deadline, retries within a budget, a circuit breaker
per upstream instance, and a bulkhead per upstream, as an httpx transport (``service_client`` wraps the
network in it, so a service's code only sees answers).

What is not answered by the upstream is answered here, at once, the way a proxy would: a 503 problem
(``application/problem+json``) naming the upstream, with ``Retry-After`` and ``X-Paved-Rejected`` saying
why (``circuit-open``, ``bulkhead-full``); a call with no time left raises ``DeadlineExceeded`` (an
``httpx.TimeoutException``) before touching the network.

The breaker and the budget are our own (no maintained Python library has a breaker on a failure rate
over a window with a minimum of calls, or a retry budget); the backoff is tenacity's full jitter. Each is
small and tested against failure in ``tests/unit/test_resilience.py``. So is the retry loop: tenacity's
``AsyncRetrying`` cost ~100 µs of CPU per call, most of what the client added to a call.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import json
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import structlog
import tenacity
from pydantic import BaseModel, ConfigDict, Field

from paved import _context as context
from paved._metrics import UpstreamMetrics
from paved._problems import PROBLEM_JSON

log = structlog.get_logger(logger_name="paved.resilience")

Clock = Callable[[], float]

# Idempotent by RFC 9110: sending one twice has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that say "not now" rather than "no": worth another attempt of an idempotent request.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
REJECTED = "x-paved-rejected"
# Set by paved's middleware on a request it shed: the server is over its capacity ("slow down", not "down").
SHED = "x-paved-shed"
# The remaining budget of the call, in milliseconds, for the callee's own deadline (paved's middleware
# reads it, and Envoy's x-envoy-expected-rq-timeout-ms, which an edge sets).
TIMEOUT_HEADER = "x-request-timeout-ms"


class RetryPolicy(BaseModel):
    """Retries of idempotent calls: full-jitter exponential backoff, within a budget per upstream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=3, ge=1)
    backoff_initial_seconds: float = Field(default=0.05, gt=0)
    backoff_max_seconds: float = Field(default=1.0, gt=0)
    # Retries at most this share of the calls over the window, plus the floor, so that an upstream in
    # trouble sees at most ~1.2x its normal traffic (Finagle's RetryBudget, Envoy's retry_budget).
    budget_ratio: float = Field(default=0.2, ge=0)
    budget_floor_per_second: float = Field(default=0.5, ge=0)
    budget_window_seconds: float = Field(default=10.0, gt=0)


class BreakerPolicy(BaseModel):
    """When the circuit to an upstream instance opens, and how it closes again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_rate: float = Field(default=0.5, gt=0, le=1)
    minimum_calls: int = Field(default=10, ge=1)
    window_seconds: float = Field(default=10.0, gt=0)
    consecutive_failures: int = Field(default=5, ge=1)
    open_seconds: float = Field(default=3.0, gt=0)
    # Each opening lasts open_seconds × uniform(1, 1 + open_jitter): replicas that saw the same overload
    # open together, and would otherwise probe together and leave the upstream idle in between (bench).
    open_jitter: float = Field(default=0.5, ge=0)
    # Calls let through while half-open; as many successes close it, one failure opens it again.
    probes: int = Field(default=2, ge=1)


class BulkheadPolicy(BaseModel):
    """How many calls to an upstream may be in flight at once, and how many may wait for a turn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_concurrent: int = Field(default=32, ge=1)
    max_queued: int = Field(default=32, ge=0)


class UpstreamPolicy(BaseModel):
    """How a service calls one upstream; the defaults are right for most (``PAVED_UPSTREAMS__<NAME>__…``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The longest a call may take, retries included; less if the request being served has less left.
    timeout_seconds: float = Field(default=5.0, gt=0)
    # Kept back from the caller's remaining time, for it to read the answer and answer its own caller.
    deadline_margin_seconds: float = Field(default=0.005, ge=0)
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    bulkhead: BulkheadPolicy = BulkheadPolicy()


class DeadlineExceeded(httpx.TimeoutException):
    """The call had no time left: it was not sent."""


class _Window:
    """Counts of a few kinds over the last ``seconds``, in ten slices (a slice drops off whole)."""

    def __init__(self, seconds: float, kinds: int, clock: Clock) -> None:
        self.slice = seconds / 10
        self.kinds = kinds
        self.clock = clock
        self.slices: deque[tuple[int, list[int]]] = deque()

    def add(self, kind: int) -> None:
        index = int(self.clock() / self.slice)
        if not self.slices or self.slices[-1][0] != index:
            self.slices.append((index, [0] * self.kinds))
        self.slices[-1][1][kind] += 1

    def totals(self) -> list[int]:
        oldest = int(self.clock() / self.slice) - 9
        while self.slices and self.slices[0][0] < oldest:
            self.slices.popleft()
        return [sum(counts[kind] for _, counts in self.slices) for kind in range(self.kinds)]

    def clear(self) -> None:
        self.slices.clear()


class RetryBudget:
    """Retries allowed: ``ratio`` of the calls over the window, plus ``floor_per_second``."""

    _CALLS, _RETRIES = 0, 1

    def __init__(self, policy: RetryPolicy, clock: Clock = time.monotonic) -> None:
        self.floor = policy.budget_floor_per_second * policy.budget_window_seconds
        self.ratio = policy.budget_ratio
        self.window = _Window(policy.budget_window_seconds, 2, clock)

    def record_call(self) -> None:
        self.window.add(self._CALLS)

    def try_spend(self) -> bool:
        """Take one retry from the budget; False if it has none left."""
        calls, retries = self.window.totals()
        if retries >= self.floor + self.ratio * calls:
            return False
        self.window.add(self._RETRIES)
        return True


class CircuitState(enum.IntEnum):
    """The value of the ``circuit_state`` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Stops calls to an upstream instance that fails, so that callers fail at once instead of waiting.

    Closed, it counts: it opens when ``consecutive_failures`` calls in a row fail, or when at least
    ``minimum_calls`` over the window failed at ``failure_rate`` or more. Open, it refuses every call for
    ``open_seconds``; then, half-open, it lets ``probes`` calls through: as many successes close it, one
    failure opens it again.
    """

    _OK, _FAILED = 0, 1

    def __init__(
        self,
        policy: BreakerPolicy,
        *,
        on_change: Callable[[CircuitState], None] = lambda _: None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.on_change = on_change
        self.state = CircuitState.CLOSED
        self.window = _Window(policy.window_seconds, 2, clock)
        self.consecutive = 0
        self.opened_at = 0.0
        self.open_for = policy.open_seconds
        self.probing = 0  # probes let through and not yet answered
        self.probed = 0  # probes that succeeded

    def allow(self) -> bool:
        """Whether a call may go now; a half-open breaker counts it as a probe (``record`` or ``release`` it)."""
        if self.state is CircuitState.OPEN:
            if self.clock() < self.opened_at + self.open_for:
                return False
            self._move(CircuitState.HALF_OPEN)
        if self.state is CircuitState.HALF_OPEN:
            if self.probing + self.probed >= self.policy.probes:
                return False
            self.probing += 1
        return True

    def record(self, *, ok: bool) -> None:
        """The outcome of a call ``allow`` let through."""
        if self.state is CircuitState.HALF_OPEN:
            self.probing = max(self.probing - 1, 0)
            if not ok:
                self._move(CircuitState.OPEN)
            else:
                self.probed += 1
                if self.probed >= self.policy.probes:
                    self._move(CircuitState.CLOSED)
            return
        if self.state is CircuitState.OPEN:
            return  # a call that started before the circuit opened
        self.window.add(self._OK if ok else self._FAILED)
        self.consecutive = 0 if ok else self.consecutive + 1
        if not ok and self._should_open():
            self._move(CircuitState.OPEN)

    def release(self) -> None:
        """A call ``allow`` let through ended without an outcome (cancelled): its probe slot is free again."""
        if self.state is CircuitState.HALF_OPEN:
            self.probing = max(self.probing - 1, 0)

    def retry_after(self) -> float:
        """Seconds until an open circuit lets a probe through."""
        return max(self.opened_at + self.open_for - self.clock(), 0.0)

    def _should_open(self) -> bool:
        if self.consecutive >= self.policy.consecutive_failures:
            return True
        ok, failed = self.window.totals()
        calls = ok + failed
        return calls >= self.policy.minimum_calls and failed / calls >= self.policy.failure_rate

    def _move(self, state: CircuitState) -> None:
        self.state = state
        self.probing = self.probed = 0
        if state is CircuitState.OPEN:
            self.opened_at = self.clock()
            self.open_for = self.policy.open_seconds * random.uniform(1.0, 1.0 + self.policy.open_jitter)
        elif state is CircuitState.CLOSED:
            self.window.clear()
            self.consecutive = 0
        self.on_change(state)


class Bulkhead:
    """At most ``max_concurrent`` calls at once; up to ``max_queued`` more wait for a turn, the rest are refused."""

    def __init__(self, policy: BulkheadPolicy) -> None:
        self.slots = asyncio.Semaphore(policy.max_concurrent)
        self.max_queued = policy.max_queued
        self.queued = 0

    async def enter(self, *, within: float) -> bool:
        """Take a slot, waiting at most ``within`` seconds; False if the queue is full or the wait ran out."""
        if not self.slots.locked():
            await self.slots.acquire()  # free: no wait
            return True
        if self.queued >= self.max_queued:
            return False
        self.queued += 1
        try:
            async with asyncio.timeout(within):
                await self.slots.acquire()
        except TimeoutError:
            return False
        finally:
            self.queued -= 1
        return True

    def leave(self) -> None:
        self.slots.release()


class _SlotReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its bulkhead slot back once read or closed: a slow body holds the slot."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self.stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            release, self._release = self._release, None  # once, however often it is closed
            if release is not None:
                release()


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _is_idempotent(request: httpx.Request) -> bool:
    return request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers


def _failed(outcome: httpx.Response | BaseException) -> bool:
    """What the breaker counts as a failure: no answer, a 5xx; but not a 503 problem a service answers.

    Such a 503 says "not now" of a service that is well: a partner of its own is unavailable (order's while
    the catalog is down), and its other calls must not be cut off; or it shed the call, which is "slow
    down", not "down": the retry budget and ``Retry-After`` slow the callers, and a breaker that opened on
    it starved the upstream (bench: 0.8 of its capacity served against 0.95 without). A 503 not from a
    service (a proxy's plain one) counts."""
    if not isinstance(outcome, httpx.Response):
        return True
    if outcome.status_code == 503:
        return not outcome.headers.get("content-type", "").startswith(PROBLEM_JSON)
    return outcome.status_code >= 500


class ResilientTransport(httpx.AsyncBaseTransport):
    """Calls to one upstream through ``inner`` (the network), with ``policy``'s deadline, retries,
    breakers (one per instance: host and port) and bulkhead; counted in ``metrics`` if given."""

    def __init__(
        self,
        upstream: str,
        inner: httpx.AsyncBaseTransport,
        *,
        policy: UpstreamPolicy,
        metrics: UpstreamMetrics | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self.inner = inner
        self.policy = policy
        self.metrics = metrics
        self.clock = clock
        self.budget = RetryBudget(policy.retry, clock)
        self.bulkhead = Bulkhead(policy.bulkhead)
        self.breakers: dict[str, CircuitBreaker] = {}
        self._retrying = tenacity.Retrying()  # what a RetryCallState, which the backoff reads, belongs to
        self._backoff = tenacity.wait_random_exponential(
            multiplier=policy.retry.backoff_initial_seconds, max=policy.retry.backoff_max_seconds
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = self.clock()
        # The call's own timeout (httpx's ``timeout=``; the client's is the policy's), within the deadline.
        asked = request.extensions.get("timeout", {}).get("read") or self.policy.timeout_seconds
        ends = now + asked
        if (deadline := context.deadline.get()) is not None:
            ends = min(ends, deadline - self.policy.deadline_margin_seconds)
        if ends <= now:
            self._count_rejected("no_time_left")
            raise DeadlineExceeded(f"no time left for a call to {self.upstream}", request=request)
        self.budget.record_call()
        if self.metrics is not None:
            self.metrics.calls.labels(self.upstream).inc()
        retry_any = _is_idempotent(request)
        # The loop is ours and the first attempt costs nothing of it: tenacity's own machinery (its
        # AsyncRetrying) was ~100 µs of CPU a call (bench/README.md, issue 13); the backoff is tenacity's.
        attempt = 1
        while True:
            try:
                response = await self._attempt(request, ends)
            except httpx.TransportError as error:
                # Never sent (refused): safe to send again whatever the method.
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                retryable = not isinstance(error, DeadlineExceeded) and (never_sent or retry_any)
                if not retryable or (pause := self._pause_before_retry(attempt, ends, None)) is None:
                    raise
            else:
                retryable = (
                    retry_any and response.status_code in RETRYABLE_STATUSES and REJECTED not in response.headers
                )
                if not retryable or (pause := self._pause_before_retry(attempt, ends, response)) is None:
                    return response
                await response.aclose()  # the answer given up on: its connection goes back to the pool
            await asyncio.sleep(pause)
            attempt += 1

    def _pause_before_retry(self, attempt: int, ends: float, response: httpx.Response | None) -> float | None:
        """How long to wait before attempt ``attempt + 1``: full jitter, at least ``Retry-After``; None if
        it is not to be made (out of attempts, of time, or of the upstream's retry budget)."""
        if attempt >= self.policy.retry.attempts:
            return None
        state = tenacity.RetryCallState(self._retrying, None, (), {})
        state.attempt_number = attempt
        pause = self._backoff(state)
        if response is not None and (asked := _retry_after_seconds(response)) is not None:
            pause = max(pause, asked)
        if self.clock() + pause >= ends:
            return None  # the next attempt would start too late to be of use
        if not self.budget.try_spend():
            if self.metrics is not None:
                self.metrics.budget_exhausted.labels(self.upstream).inc()
            return None
        if self.metrics is not None:
            self.metrics.retries.labels(self.upstream).inc()
        return pause

    async def _attempt(self, request: httpx.Request, ends: float) -> httpx.Response:
        breaker = self._breaker(request.url)
        if not breaker.allow():
            self._count_rejected("circuit_open")
            return self._refusal(request, "circuit-open", f"{self.upstream}'s circuit is open", breaker.retry_after())
        if not await self.bulkhead.enter(within=max(ends - self.clock(), 0.0)):
            breaker.release()
            self._count_rejected("bulkhead_full")
            return self._refusal(request, "bulkhead-full", f"too many calls to {self.upstream} at once", 1.0)
        left = ends - self.clock()
        if left <= 0:
            self.bulkhead.leave()
            breaker.release()
            self._count_rejected("no_time_left")
            raise DeadlineExceeded(f"no time left for a call to {self.upstream}", request=request)
        request.extensions["timeout"] = {"connect": left, "read": left, "write": left, "pool": left}
        request.headers[TIMEOUT_HEADER] = str(int(left * 1000))
        try:
            async with asyncio.timeout(left):
                response = await self.inner.handle_async_request(request)
        except BaseException as exc:
            self.bulkhead.leave()
            if isinstance(exc, TimeoutError):
                exc = httpx.ReadTimeout(f"{self.upstream} did not answer within {left:.3f} s", request=request)
            if isinstance(exc, Exception):
                breaker.record(ok=False)
                self._count_attempt("timeout" if isinstance(exc, httpx.TimeoutException) else "error")
                raise exc from None
            breaker.release()  # cancelled: no outcome
            raise
        breaker.record(ok=not _failed(response))
        self._count_attempt(f"{response.status_code // 100}xx")
        if response.is_closed:  # read already (a body given whole, as a test transport's)
            self.bulkhead.leave()
        else:
            assert isinstance(response.stream, httpx.AsyncByteStream)  # from an async transport
            response.stream = _SlotReleasingStream(response.stream, self.bulkhead.leave)
        return response

    def _breaker(self, url: httpx.URL) -> CircuitBreaker:
        instance = f"{url.host}:{url.port}" if url.port else url.host
        breaker = self.breakers.get(instance)
        if breaker is None:

            def changed(state: CircuitState) -> None:
                log.warning(
                    "circuit " + state.name.lower().replace("_", "-"), upstream=self.upstream, instance=instance
                )
                if self.metrics is not None:
                    self.metrics.circuit_state.labels(self.upstream, instance).set(state.value)

            breaker = self.breakers[instance] = CircuitBreaker(self.policy.breaker, on_change=changed, clock=self.clock)
        return breaker

    def _refusal(self, request: httpx.Request, reason: str, detail: str, retry_after: float) -> httpx.Response:
        problem = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": detail}
        headers = {
            "content-type": PROBLEM_JSON,
            "retry-after": str(max(int(retry_after + 0.999), 1)),
            REJECTED: reason,
        }
        return httpx.Response(
            503, headers=headers, content=json.dumps(problem | {"upstream": self.upstream}), request=request
        )

    def _count_attempt(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.attempts.labels(self.upstream, outcome).inc()

    def _count_rejected(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.rejected.labels(self.upstream, reason).inc()

    async def aclose(self) -> None:
        await self.inner.aclose()
