"""The middleware every inbound request passes, as one pure ASGI layer: ids, the request's deadline,
load shedding, access log and metrics.

Pure ASGI rather than ``BaseHTTPMiddleware`` because it costs one function call per request and
does not buffer streamed bodies.

The deadline is the budget of everything the request causes (``paved._resilience`` gives each call what
is left): the caller's (``X-Request-Timeout-Ms``, or Envoy's ``X-Envoy-Expected-Rq-Timeout-Ms`` from an
edge), capped by the service's ``request_deadline_seconds``. Shedding keeps the queue short: at most
``max_in_flight`` requests are served at once and as many wait, and one that waits longer than ``queue_seconds`` for a
turn is answered 503 with ``Retry-After`` at once, so a service over its capacity keeps serving what it
can in good time instead of serving everything late. Health and metrics are never shed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from fastapi import Depends
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paved import _context as context
from paved._callers import CALLER, caller_of
from paved._metrics import ServiceMetrics
from paved._problems import PROBLEM_JSON
from paved._resilience import SHED, TIMEOUT_HEADER, Bulkhead, BulkheadPolicy

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
# Requests made by probes and scrapers: measured, but not logged, so the log stays readable.
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
TIMEOUT_HEADERS = (TIMEOUT_HEADER.encode(), b"x-envoy-expected-rq-timeout-ms")

log = structlog.get_logger(logger_name="paved.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))[:200]
    return None


def route_deadline(seconds: float) -> Any:
    """A route's own budget, when it must answer sooner than the service's ``request_deadline_seconds``:
    ``@router.post("/checkout", dependencies=[paved.route_deadline(8.0)])``. A caller's shorter one wins."""

    async def tighten() -> None:
        ends = time.monotonic() + seconds
        current = context.deadline.get()
        if current is None or ends < current:
            context.deadline.set(ends)  # reset with the request's own, by the middleware

    return Depends(tighten)


def _timeout_asked(scope: Scope) -> float | None:
    """The smallest remaining time the callers gave, in seconds; None if none gave one (or not a number)."""
    asked = None
    for key, value in scope["headers"]:
        if key in TIMEOUT_HEADERS:
            try:
                seconds = int(value) / 1000
            except ValueError:
                continue
            asked = seconds if asked is None else min(asked, seconds)
    return asked


class RequestContextMiddleware:
    """Give each request a request id, a correlation id and a deadline; shed what is over capacity; log
    and measure it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServiceMetrics,
        deadline_seconds: float = 10.0,
        max_in_flight: int = 64,
        queue_seconds: float = 0.1,
        trusted_proxies: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        self.metrics = metrics
        self.deadline_seconds = deadline_seconds
        # The client's bulkhead, in front of the app: as many may wait as are served, none for long.
        self.slots = Bulkhead(BulkheadPolicy(max_concurrent=max_in_flight, max_queued=max_in_flight))
        self.queue_seconds = queue_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, REQUEST_ID.encode()) or context.new_id()
        cid = _header(scope, CORRELATION_ID.encode()) or rid
        scope["paved.request_id"] = rid
        scope[CALLER] = caller_of(scope, trusted_proxies=self.trusted_proxies)
        started = time.perf_counter()
        asked = _timeout_asked(scope)
        budget = self.deadline_seconds if asked is None else min(asked, self.deadline_seconds)
        rid_token = context.request_id.set(rid)
        cid_token = context.correlation_id.set(cid)
        deadline_token = context.deadline.set(time.monotonic() + budget)
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID] = rid
                headers[CORRELATION_ID] = cid
            await send(message)

        exempt = scope["path"] in QUIET_PATHS
        try:
            if budget <= 0:
                await self._refuse(send_with_ids, 504, "no_time_left", "the caller left no time to answer in")
            elif exempt:
                await self.app(scope, receive, send_with_ids)
            elif not await self.slots.enter(within=self.queue_seconds):
                await self._refuse(send_with_ids, 503, "over_capacity", "too many requests at once; try again")
            else:
                self.metrics.in_flight.inc()
                try:
                    await self.app(scope, receive, send_with_ids)
                finally:
                    self.metrics.in_flight.dec()
                    self.slots.leave()
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "<unmatched>")
            self.metrics.observe(method=scope["method"], route=route, status=status, seconds=seconds)
            if scope["path"] not in QUIET_PATHS:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    ms=round(seconds * 1000, 2),
                )
            context.request_id.reset(rid_token)
            context.correlation_id.reset(cid_token)
            context.deadline.reset(deadline_token)

    async def _refuse(self, send: Send, status: int, reason: str, detail: str) -> None:
        """Answer at once, without serving: a problem the caller can act on."""
        self.metrics.shed.labels(reason).inc()
        title = "Service Unavailable" if status == 503 else "Gateway Timeout"
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
        if status == 503:
            headers += [(b"retry-after", b"1"), (SHED.encode(), reason.replace("_", "-").encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
