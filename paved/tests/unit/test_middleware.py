from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from paved import _context as context
from paved._metrics import ServiceMetrics
from paved._middleware import RequestContextMiddleware


def make_app(metrics: ServiceMetrics) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.add_route("/metrics", metrics.endpoint)

    @app.get("/albums/{sku}")
    async def album(sku: str) -> dict[str, str | None]:
        return {"sku": sku, "correlation_id": context.correlation_id.get()}

    return app


async def test_ids_are_made_echoed_and_visible_to_handlers() -> None:
    """Each request gets a request id; the correlation id comes from the caller or starts here."""
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.ASGITransport(app=make_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        fresh = await client.get("/albums/A1")
        carried = await client.get("/albums/A1", headers={"x-correlation-id": "order-42"})
    assert fresh.headers["x-request-id"]
    assert fresh.headers["x-correlation-id"] == fresh.headers["x-request-id"] == fresh.json()["correlation_id"]
    assert carried.headers["x-correlation-id"] == "order-42" == carried.json()["correlation_id"]
    assert context.correlation_id.get() is None, "ids must not leak out of the request"


async def test_requests_are_counted_by_route_template() -> None:
    """Metrics label requests with the route template, so paths with ids do not explode the series."""
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.ASGITransport(app=make_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for sku in ("A1", "A2", "A3"):
            await client.get(f"/albums/{sku}")
        await client.get("/nowhere")
        exposition = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/albums/{sku}",status="200"} 3.0' in exposition
    assert 'route="<unmatched>",status="404"' in exposition
    assert 'service_info{service="t",version="1"} 1.0' in exposition


def slow_app(metrics: ServiceMetrics, **limits: float) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=metrics, **limits)
    app.add_route("/metrics", metrics.endpoint)

    @app.get("/slow")
    async def slow() -> dict[str, float]:
        await asyncio.sleep(0.3)
        return {}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/budget")
    async def budget() -> dict[str, float | None]:
        deadline = context.deadline.get()
        return {"left": None if deadline is None else deadline - time.monotonic()}

    return app


async def test_over_capacity_requests_are_shed_at_once_with_retry_after_and_health_is_not() -> None:
    """Two served at once, none queued long: the third and fourth get a 503 problem now, not a slow answer."""
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.ASGITransport(app=slow_app(metrics, max_in_flight=2, queue_seconds=0.01))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = await asyncio.gather(*(client.get("/slow") for _ in range(4)), client.get("/health/live"))
        exposition = (await client.get("/metrics")).text
        after = await client.get("/slow")
    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses[:4]) == [200, 200, 503, 503]
    assert statuses[4] == 200, "health is never shed"
    shed = next(answer for answer in answers if answer.status_code == 503)
    assert shed.headers["retry-after"] == "1"
    assert shed.headers["content-type"] == "application/problem+json"
    assert shed.headers["x-request-id"], "a shed request is still a request: it has its id"
    assert 'http_shed_total{reason="over_capacity"} 2.0' in exposition
    assert after.status_code == 200, "recovered once the load is gone"


async def test_the_request_deadline_is_the_caller_s_capped_by_the_service_s() -> None:
    metrics = ServiceMetrics(service="t", version="1")
    transport = httpx.ASGITransport(app=slow_app(metrics, deadline_seconds=2.0))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        default = (await client.get("/budget")).json()["left"]
        asked = (await client.get("/budget", headers={"x-request-timeout-ms": "500"})).json()["left"]
        edge = (await client.get("/budget", headers={"x-envoy-expected-rq-timeout-ms": "300"})).json()["left"]
        greedy = (await client.get("/budget", headers={"x-request-timeout-ms": "60000"})).json()["left"]
        gone = await client.get("/budget", headers={"x-request-timeout-ms": "0"})
    assert 1.5 < default <= 2.0
    assert 0.2 < asked <= 0.5
    assert 0.1 < edge <= 0.3
    assert 1.5 < greedy <= 2.0, "a caller cannot ask for more than the service gives"
    assert gone.status_code == 504, "no time left: answered at once, not served"
    assert context.deadline.get() is None, "the deadline does not leak out of the request"
