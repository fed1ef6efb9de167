from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import structlog
from fastapi import FastAPI

from paved._logs import configure_logging
from paved._metrics import ServiceMetrics
from paved._middleware import RequestContextMiddleware


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    configure_logging(service="catalog", version="1.0.0", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


async def test_each_request_is_one_json_line_with_its_ids(json_logs) -> None:
    """A request is logged once, as JSON, with service, version, route, status and its ids."""
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=ServiceMetrics(service="catalog", version="1.0.0"))

    @app.get("/albums/{sku}")
    async def album(sku: str) -> dict[str, str]:
        return {"sku": sku}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/albums/A1", headers={"x-request-id": "r-1", "x-correlation-id": "c-1"})
    [line] = [line for line in json_logs() if line["event"] == "request"]
    assert line | {"timestamp": None, "ms": None} == {
        "event": "request",
        "level": "info",
        "logger_name": "paved.access",
        "method": "GET",
        "path": "/albums/A1",
        "route": "/albums/{sku}",
        "status": 200,
        "service": "catalog",
        "version": "1.0.0",
        "request_id": "r-1",
        "correlation_id": "c-1",
        "timestamp": None,
        "ms": None,
    }


def test_other_libraries_log_the_same_way(json_logs) -> None:
    """Records of the standard library's loggers (uvicorn's, say) come out as the same JSON lines."""
    logging.getLogger("uvicorn.error").warning("port %d busy", 8101)
    [line] = json_logs()
    assert line["event"] == "port 8101 busy"
    assert (line["level"], line["logger_name"], line["service"]) == ("warning", "uvicorn.error", "catalog")
