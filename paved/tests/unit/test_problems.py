from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from paved._metrics import ServiceMetrics
from paved._middleware import RequestContextMiddleware
from paved._problems import PROBLEM_JSON, Problem, install_problem_handlers, map_error


class OutOfStockError(Exception):
    pass


class Line(BaseModel):
    quantity: int = Field(gt=0)


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=ServiceMetrics(service="t", version="1"))
    install_problem_handlers(app)
    map_error(app, OutOfStockError, status=409, title="Out of stock")

    @app.post("/lines")
    async def add_line(line: Line) -> Line:
        return line

    @app.get("/stock")
    async def stock() -> None:
        raise OutOfStockError("ALB-00001 has none left")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/teapot")
    async def teapot() -> None:
        raise Problem(418, "I'm a teapot", "short and stout", headers={"X-Why": "tea"}, pot="brown")

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_a_wrong_field_is_a_422_that_names_it(client: httpx.AsyncClient) -> None:
    """A body that fails validation is a problem response naming the field and the reason."""
    response = await client.post("/lines", json={"quantity": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["title"] == "Request is not valid"
    assert body["errors"][0]["field"] == "body.quantity"
    assert "body.quantity" in body["detail"]


async def test_malformed_json_is_a_4xx_not_a_500(client: httpx.AsyncClient) -> None:
    """A body that is not JSON at all is answered with a 4xx problem."""
    response = await client.post("/lines", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_mapped_domain_error_keeps_its_message(client: httpx.AsyncClient) -> None:
    """A domain error mapped once answers with its status, title, and its message as detail."""
    response = await client.get("/stock")
    assert response.status_code == 409
    assert response.json()["title"] == "Out of stock"
    assert response.json()["detail"] == "ALB-00001 has none left"


async def test_an_unexpected_error_is_a_500_problem_that_hides_internals(client: httpx.AsyncClient) -> None:
    """An unhandled exception is a 500 problem carrying the request id, not the exception text."""
    response = await client.get("/boom", headers={"x-request-id": "req-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["request_id"] == "req-1"
    assert "secret" not in response.text


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    """Starlette's own HTTP errors become problem responses too."""
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404, "instance": "/nowhere"}


async def test_a_raised_problem_keeps_extensions_and_headers(client: httpx.AsyncClient) -> None:
    """Extension members and headers of a raised Problem reach the client."""
    response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.headers["x-why"] == "tea"
    assert response.json()["pot"] == "brown"
