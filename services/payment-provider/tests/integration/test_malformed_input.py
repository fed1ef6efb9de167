from __future__ import annotations

from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
charge_like = st.fixed_dictionaries(
    {},
    optional={
        "amount_minor": json_values | st.integers(-10, 10**9),
        "currency": json_values | st.from_regex(r"[A-Z]{3}", fullmatch=True),
        "card_number": json_values | st.from_regex(r"[0-9]{12,19}", fullmatch=True) | st.just("4242424242424242"),
        "reference": json_values | st.text(max_size=210),
    },
)
keys = st.none() | st.text(max_size=300) | st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=charge_like | json_values, idempotency_key=keys)
async def test_no_request_makes_the_processor_fail(
    client: httpx.AsyncClient, body: object, idempotency_key: str | None
) -> None:
    """Whatever JSON and key arrive, the answer is a success or a 4xx problem that names a field, never a 5xx."""
    headers = {}
    if idempotency_key is not None and idempotency_key.isascii() and idempotency_key.isprintable():
        headers["Idempotency-Key"] = idempotency_key
    response = await client.post("/charges", json=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        if response.status_code == 422 and "errors" in problem:
            assert all(error["field"] for error in problem["errors"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, charge_id=st.text(min_size=1, max_size=60).filter(lambda s: s.strip(".")))
async def test_no_refund_request_makes_the_processor_fail(
    client: httpx.AsyncClient, body: object, charge_id: str
) -> None:
    """Whatever charge id and body a refund names, the answer is a 4xx problem, never a 5xx."""
    response = await client.post(
        f"/charges/{quote(charge_id, safe='')}/refunds", json=body, headers={"Idempotency-Key": "r-1"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reference=st.text(max_size=250), charge_id=st.text(min_size=1, max_size=60).filter(lambda s: s.strip(".")))
async def test_no_lookup_makes_the_processor_fail(client: httpx.AsyncClient, reference: str, charge_id: str) -> None:
    """Whatever reference or charge id is looked up (control characters included), the answer is never a 5xx."""
    listed = await client.get("/charges", params={"reference": reference})
    one = await client.get(f"/charges/{quote(charge_id, safe='')}")
    assert listed.status_code in (200, 422), listed.text
    assert one.status_code in (404, 422), one.text
