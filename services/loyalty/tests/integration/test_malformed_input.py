from __future__ import annotations

from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paved.testing import TestTokens

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
limits = st.none() | st.integers(-(10**20), 10**20) | st.text(max_size=12) | st.floats(allow_nan=True)
segments = st.text(min_size=1, max_size=120) | st.from_regex(r"acc_[a-z0-9]{1,20}", fullmatch=True)


def _problem_names(response: httpx.Response, *fields: str) -> bool:
    if response.status_code == 200:
        return True
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code != 422 or all(e["field"] in fields for e in response.json()["errors"])


@SETTINGS
@given(limit=limits)
async def test_no_limit_makes_the_service_fail(client: httpx.AsyncClient, tokens: TestTokens, limit: object) -> None:
    """Whatever arrives as ?limit=, the answer is the statement or a 422 problem naming query.limit."""
    params = {} if limit is None else {"limit": str(limit)}
    response = await client.get("/me/points", params=params, headers=tokens.bearer("acc_ann", "customer"))
    assert response.status_code in (200, 422), response.text
    assert _problem_names(response, "query.limit"), response.text


@SETTINGS
@given(customer_id=segments, limit=limits)
async def test_no_customer_id_makes_the_service_fail(
    client: httpx.AsyncClient, admin: dict[str, str], customer_id: str, limit: object
) -> None:
    """Whatever customer id an admin asks for, the answer is a statement or a 4xx problem naming the parameter."""
    params = {} if limit is None else {"limit": str(limit)}
    # Percent-encoded as a client would: any text at all, slashes and control characters included.
    path = f"/customers/{quote(customer_id, safe='')}/points"
    response = await client.get(path, params=params, headers=admin)
    assert response.status_code < 500, response.text
    assert _problem_names(response, "path.customer_id", "query.limit"), response.text
