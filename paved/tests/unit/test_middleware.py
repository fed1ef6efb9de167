from __future__ import annotations

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
