from __future__ import annotations

import asyncio

import httpx
import pytest
from paved import Service
from paved.testing import TestTokens
from sqlalchemy import func, select

from order.settings import OrderSettings
from order.tables import orders, sagas

from .bodies import an_order, keyed
from .edges import Edges
from .running import order_service

RACERS = 6


async def stored(service: Service) -> tuple[int, int]:
    """How many orders, and how many orchestrated fulfilment sagas, the database holds.

    Orchestrated only: the broker is shared by the session's tests, so the saga view may also be recording a
    choreographed order of an earlier test whose events reached the broker as that test's service stopped.
    """
    async with service.database.read() as session:
        placed = (await session.execute(select(func.count()).select_from(orders))).scalar_one()
        orchestrated = sagas.sagas.c.style == "orchestrated"
        sent = (await session.execute(select(func.count()).select_from(sagas.sagas).where(orchestrated))).scalar_one()
    return placed, sent


async def test_concurrent_requests_with_one_key_place_one_order(
    client: httpx.AsyncClient, ann: dict[str, str], edges: Edges, service: Service
) -> None:
    """Requests that all pass the check for an earlier order before any stores: one 201, the rest 200, one order."""
    edges.catalog_delay = 0.2  # so that every request is past the check before the first one stores
    headers = keyed(ann)
    responses = await asyncio.gather(*(client.post("/orders", json=an_order(), headers=headers) for _ in range(RACERS)))
    assert sorted(r.status_code for r in responses) == [200] * (RACERS - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert edges.catalog_calls == RACERS  # none of them was answered from an earlier order
    assert await stored(service) == (1, 1)


@pytest.mark.postgres
async def test_two_instances_racing_with_one_key_place_one_order(
    postgres_url: str, broker_url: str, edges: Edges, tokens: TestTokens, ann: dict[str, str]
) -> None:
    """Two replicas on one PostgreSQL database, each answering some of the racing requests, store one order."""
    settings = OrderSettings(
        database_url=postgres_url, broker_url=broker_url, catalog_url="http://catalog", customer_url="http://customer"
    )
    edges.catalog_delay = 0.2
    headers = keyed(ann)
    first, second = order_service(settings, edges, tokens), order_service(settings, edges, tokens)
    async with first.running(), second.running():
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=s.app), base_url="http://order")
            for s in (first, second)
        ]
        responses = await asyncio.gather(
            *(clients[n % 2].post("/orders", json=an_order(), headers=headers) for n in range(RACERS))
        )
        for client in clients:
            await client.aclose()
        assert sorted(r.status_code for r in responses) == [200] * (RACERS - 1) + [201]
        assert len({r.json()["id"] for r in responses}) == 1
        assert await stored(first) == (1, 1)
