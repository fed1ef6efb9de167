from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from paved.testing import TestTokens

from ..unit.fakes import FakeProvider
from .values import Running, payment_settings, serving


@pytest.fixture
async def payment(database_url: str, broker_url: str, tokens: TestTokens) -> AsyncIterator[Running]:
    settings = payment_settings(database_url=database_url, broker_url=broker_url, provider_url="http://unused")
    async with serving(settings, tokens, provider=FakeProvider()) as running:
        yield running


order_ids = st.text(min_size=1, max_size=80).filter(lambda s: s.strip(".")) | st.from_regex(
    r"[a-z0-9-]{1,70}", fullmatch=True
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=order_ids, mine=st.booleans())
@example(order_id="0/", mine=False)  # once answered 307 (a redirect to the path without its slash)
async def test_no_order_id_makes_the_service_fail(payment: Running, order_id: str, mine: bool) -> None:
    """Whatever order id is asked for, the answer is a 4xx problem (422 naming the field if malformed), never a 5xx."""
    path = f"/me/payments/{quote(order_id, safe='')}" if mine else f"/payments/{quote(order_id, safe='')}"
    headers = payment.tokens.bearer("customer-1", "customer", "payments:read")
    response = await payment.client.get(path, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 422:
        assert response.json()["errors"][0]["field"] == "path.order_id"
