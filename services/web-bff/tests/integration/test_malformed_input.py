from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .musiccorp import MusicCorp

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
skus = st.sampled_from(["ALB-00001", "ALB-00002", "GONE-001"]) | json_values
lines = st.lists(
    st.fixed_dictionaries({}, optional={"sku": skus, "quantity": st.integers(-2, 120) | json_values}), max_size=4
)
card_numbers = st.sampled_from(["4242424242424242", "4242424242424241"]) | st.from_regex(
    r"[0-9]{10,20}", fullmatch=True
)
BODIES = {
    "/api/register": {"email": st.emails() | json_values, "password": st.text(min_size=8, max_size=300) | json_values},
    "/api/sign-in": {"email": st.emails() | json_values, "password": json_values},
    "/api/refresh": {"refresh_token": json_values},
    "/api/basket/price": {"lines": lines | json_values},
    "/api/checkout": {
        "lines": lines | json_values,
        "delivery_address_id": st.sampled_from(["adr_home", "adr_other", " bad id"]) | json_values,
        "card_number": card_numbers | json_values,
    },
    "/api/account/addresses": {
        "name": json_values,
        "lines": st.lists(st.text(max_size=120), max_size=6) | json_values,
        "city": json_values,
        "postcode": json_values,
        "country": st.sampled_from(["GB", "gb", "GBR"]) | json_values,
    },
}
bodies = st.sampled_from(sorted(BODIES)).flatmap(
    lambda path: st.tuples(st.just(path), st.fixed_dictionaries({}, optional=BODIES[path]) | json_values)
)
queries = st.dictionaries(
    st.sampled_from(["q", "genre", "page", "limit"]), st.text(max_size=310) | st.integers(-5, 200).map(str), max_size=4
)


def _refusal_names_its_fields(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        if response.status_code == 422:
            fields = [error["field"] for error in response.json()["errors"]]
            assert fields and all(fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=bodies)
async def test_no_body_makes_the_bff_fail(
    client: httpx.AsyncClient, ann: dict[str, str], request: tuple[str, object]
) -> None:
    """Whatever JSON arrives at any endpoint, the answer is a success or a 4xx problem naming its fields."""
    path, body = request
    response = await client.post(path, json=body, headers=ann | {"Idempotency-Key": "malformed-input"})
    _refusal_names_its_fields(response)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
async def test_no_query_makes_browsing_fail(client: httpx.AsyncClient, query: dict[str, str]) -> None:
    """Whatever the grid's query, the answer is the grid or a 4xx problem naming the parameter."""
    _refusal_names_its_fields(await client.get("/api/browse", params=query))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/basket/price", {"lines": [{"sku": "alb-1", "quantity": 1}]}, "body.lines.0.sku"),
        ("/api/basket/price", {"lines": [{"sku": "ALB-00001", "quantity": "2"}]}, "body.lines.0.quantity"),
        ("/api/basket/price", {"lines": [{"sku": "ALB-00001", "quantity": 1}] * 2}, "body.lines"),
        (
            "/api/checkout",
            {"lines": [{"sku": "ALB-00001", "quantity": 1}], "delivery_address_id": "adr_home"},
            "body.card_number",
        ),
        ("/api/register", {"email": "ann@example.com", "password": "short"}, "body.password"),
        (
            "/api/account/addresses",
            {"name": "A", "lines": [], "city": "L", "postcode": "N1", "country": "GB"},
            "body.lines",
        ),
    ],
)
async def test_a_malformed_field_is_named(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str], path: str, body: object, field: str
) -> None:
    """Each kind of mistake is a 422 naming the very field, before any service is asked."""
    response = await client.post(path, json=body, headers=ann | {"Idempotency-Key": "named"})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert all(fake.seen == [] for fake in musiccorp.services.values())
