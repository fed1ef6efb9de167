from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from paved import service_client
from pydantic import BaseModel

from web_bff.clients import (
    Downstream,
    DownstreamError,
    DownstreamFailedError,
    DownstreamRefusedError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
    problem_of,
)


class Level(BaseModel):
    sku: str
    available: int


def warehouse(answer: Callable[[httpx.Request], httpx.Response]) -> Downstream:
    async def handle(request: httpx.Request) -> httpx.Response:
        return answer(request)

    client = service_client("http://warehouse.test", upstream="warehouse", transport=httpx.MockTransport(handle))
    return Downstream("warehouse", client, timeout=0.5)


async def failure_of(downstream: Downstream) -> DownstreamError:
    with pytest.raises(DownstreamError) as raised:
        await downstream.get("/stock/ALB-00001", read=Level)
    return raised.value


async def test_an_answer_is_read_as_the_contracts_model() -> None:
    """A 2xx body becomes the model; extra fields the service added since are ignored (a tolerant reader)."""
    downstream = warehouse(lambda _: httpx.Response(200, json={"sku": "ALB-00001", "available": 3, "new": True}))
    assert await downstream.get("/stock/ALB-00001", read=Level) == Level(sku="ALB-00001", available=3)


async def test_a_refusal_keeps_what_the_service_said() -> None:
    """A 4xx problem's title, detail and fields, and its challenge, go back as a problem of the same status."""
    body = {"title": "Unauthorized", "detail": "the token has expired", "errors": [{"field": "x", "message": "y"}]}
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"', "X-Internal": "not passed"}
    error = await failure_of(warehouse(lambda _: httpx.Response(401, json=body, headers=headers)))
    assert isinstance(error, DownstreamRefusedError)
    problem = problem_of(error)
    assert (problem.status, problem.title, problem.detail) == (401, "Unauthorized", "the token has expired")
    assert problem.extensions == {"service": "warehouse", "errors": [{"field": "x", "message": "y"}]}
    assert problem.headers == {"www-authenticate": 'Bearer error="invalid_token"'}


async def test_a_refusal_without_a_problem_body_is_titled_by_its_status() -> None:
    """A 4xx with a body that is not JSON still becomes a problem, titled with the status's phrase."""
    problem = problem_of(await failure_of(warehouse(lambda _: httpx.Response(404, text="<html>not found</html>"))))
    assert (problem.status, problem.title, problem.detail) == (404, "Not Found", None)


@pytest.mark.parametrize(
    ("answer", "error_type", "status", "detail"),
    [
        (
            httpx.Response(500, json={"title": "Internal Server Error"}),
            DownstreamFailedError,
            502,
            "warehouse failed (500)",
        ),
        (httpx.Response(502), DownstreamFailedError, 502, "warehouse failed (502)"),
        (httpx.Response(503), DownstreamUnavailableError, 503, "warehouse is unavailable (503)"),
        (
            httpx.Response(200, json={"sku": "ALB-00001"}),
            DownstreamFailedError,
            502,
            "warehouse answered with a body its contract does not allow",
        ),
        (
            httpx.Response(200, text="not json"),
            DownstreamFailedError,
            502,
            "warehouse answered with a body its contract does not allow",
        ),
        (httpx.Response(302, headers={"Location": "/elsewhere"}), DownstreamFailedError, 502, "warehouse failed (302)"),
    ],
)
async def test_a_service_that_fails_is_a_bad_gateway_or_unavailable(
    answer: httpx.Response, error_type: type[DownstreamError], status: int, detail: str
) -> None:
    """Failures of the service, not of the caller, are 502 (or 503 when it says so), naming the service."""
    error = await failure_of(warehouse(lambda _: answer))
    assert type(error) is error_type
    problem = problem_of(error)
    assert (problem.status, problem.detail, problem.extensions) == (status, detail, {"service": "warehouse"})


async def test_a_503s_retry_after_is_passed_on() -> None:
    """When the service says when to come back, the storefront is told the same."""
    error = await failure_of(warehouse(lambda _: httpx.Response(503, headers={"Retry-After": "7"})))
    assert problem_of(error).headers == {"Retry-After": "7"}


async def test_no_connection_is_unavailable() -> None:
    """A service that cannot be connected to is a 503 naming it."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    problem = problem_of(await failure_of(warehouse(refuse)))
    assert (problem.status, problem.detail) == (503, "warehouse cannot be reached")


async def test_a_connection_broken_off_mid_call_is_a_bad_gateway() -> None:
    """A call whose connection breaks after it was sent may have arrived: a 502, not "cannot be reached"."""

    def break_off(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection without sending a complete message", request=request)

    problem = problem_of(await failure_of(warehouse(break_off)))
    assert (problem.status, problem.detail) == (502, "warehouse broke off the call")


async def test_the_deadline_bounds_the_whole_call() -> None:
    """A service that takes longer than the deadline is given up on at the deadline: a 504 naming it."""

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={"sku": "ALB-00001", "available": 1})

    client = service_client("http://warehouse.test", upstream="warehouse", transport=httpx.MockTransport(slow))
    downstream = Downstream("warehouse", client, timeout=5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DownstreamTimeoutError) as raised:
        await downstream.get("/stock/ALB-00001", read=Level, timeout=0.2)
    assert loop.time() - started < 2
    problem = problem_of(raised.value)
    assert (problem.status, problem.detail) == (504, "warehouse did not answer within 0.2 s")


async def test_a_calls_deadline_is_also_the_transports_timeout() -> None:
    """A call given longer than the service's default deadline is not cut short by the client's read timeout."""
    timeouts: list[dict[str, float]] = []

    def record(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"sku": "ALB-00001", "available": 1})

    await warehouse(record).get("/stock/ALB-00001", read=Level, timeout=10)
    assert len(timeouts) == 1 and 9 < timeouts[0]["read"] <= 10


async def test_a_service_without_a_url_is_unavailable_without_a_call() -> None:
    """A service the BFF was not told of is unavailable, saying which setting is missing."""
    downstream = Downstream("loyalty", None, timeout=1)
    with pytest.raises(DownstreamUnavailableError, match="PAVED_LOYALTY_URL is not set"):
        await downstream.get("/me/points", read=Level)
