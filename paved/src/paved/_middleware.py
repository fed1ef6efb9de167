"""The middleware every inbound request passes: ids, access log and metrics, as one pure ASGI layer.

Pure ASGI rather than ``BaseHTTPMiddleware`` because it costs one function call per request and
does not buffer streamed bodies.
"""

from __future__ import annotations

import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paved import _context as context
from paved._metrics import ServiceMetrics

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
# Requests made by probes and scrapers: measured, but not logged, so the log stays readable.
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})

log = structlog.get_logger(logger_name="paved.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))[:200]
    return None


class RequestContextMiddleware:
    """Give each request a request id and a correlation id, then log and measure it."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, REQUEST_ID.encode()) or context.new_id()
        cid = _header(scope, CORRELATION_ID.encode()) or rid
        scope["paved.request_id"] = rid
        rid_token = context.request_id.set(rid)
        cid_token = context.correlation_id.set(cid)
        status = 500
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID] = rid
                headers[CORRELATION_ID] = cid
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
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
