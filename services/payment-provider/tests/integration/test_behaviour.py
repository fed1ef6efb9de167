from __future__ import annotations

import asyncio
import time

from .values import Start, charge_body, key


async def test_an_error_answers_5xx_and_charges_nothing(start: Start) -> None:
    """A request fated to fail answers 500 or 503 as a problem, and no charge is made."""
    async with start(provider_error_rate=1.0, provider_seed=1) as flaky:
        response = await flaky.post("/charges", json=charge_body(), headers=key("k-1"))
    assert response.status_code in (500, 503)
    assert response.headers["content-type"] == "application/problem+json"
    async with start() as healthy:
        assert (await healthy.get("/charges", params={"reference": "o-1"})).json() == {"items": []}


async def test_a_timeout_charges_the_card_and_answers_too_late(start: Start) -> None:
    """A request fated to time out makes the charge, then answers only after the caller has given up."""
    async with start(provider_timeout_rate=1.0, provider_timeout_seconds=30) as slow:
        started = time.monotonic()
        try:
            async with asyncio.timeout(0.5):
                await slow.post("/charges", json=charge_body(), headers=key("k-1"))
        except TimeoutError:
            pass
        else:
            raise AssertionError("the processor answered in time although it was to time out")
        assert time.monotonic() - started < 5
    async with start() as healthy:
        replay = await healthy.post("/charges", json=charge_body(), headers=key("k-1"))
    assert (replay.status_code, replay.json()["status"]) == (200, "succeeded")


async def test_latency_delays_every_answer(start: Start) -> None:
    """With a latency configured, no answer comes sooner."""
    async with start(provider_latency_ms=200) as slow:
        started = time.monotonic()
        response = await slow.get("/charges", params={"reference": "o-1"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_with_a_seed_the_same_requests_meet_the_same_fates(start: Start) -> None:
    """Two runs of the processor with one seed fail the same requests, in the same way."""

    async def statuses() -> list[int]:
        async with start(provider_error_rate=0.5, provider_seed=42) as flaky:
            return [(await flaky.get("/charges", params={"reference": "o-1"})).status_code for _ in range(20)]

    first, second = await statuses(), await statuses()
    assert first == second
    assert {200} < set(first)  # some failed, some did not: the seed decided which
