from __future__ import annotations

import httpx

from paved import context
from paved.client import service_client


async def test_outbound_calls_carry_the_correlation_id_and_have_a_deadline() -> None:
    """A call made while serving a request carries its correlation id on, with a timeout always set."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    token = context.correlation_id.set("order-7")
    try:
        async with service_client("http://catalog", timeout=1.5, transport=httpx.MockTransport(record)) as client:
            await client.get("/albums")
            assert client.timeout.read == 1.5
    finally:
        context.correlation_id.reset(token)
    assert seen[0].headers["x-correlation-id"] == "order-7"


async def test_calls_outside_a_request_add_no_ids() -> None:
    """With no current request there is nothing to propagate, and nothing is invented."""
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204))
    async with service_client("http://catalog", transport=transport) as client:
        await client.get("/albums")
    assert "x-correlation-id" not in seen[0].headers
