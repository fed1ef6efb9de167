from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
album_like = st.fixed_dictionaries(
    {},
    optional={
        "sku": json_values | st.from_regex(r"[A-Z]{3}-[0-9]{4}", fullmatch=True),
        "title": json_values,
        "artist": json_values,
        "genre": json_values,
        "released": json_values,
        "price": json_values | st.fixed_dictionaries({"amount_minor": json_values, "currency": json_values}),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=album_like | json_values)
async def test_no_body_makes_the_catalog_fail(client: httpx.AsyncClient, admin: dict[str, str], body: object) -> None:
    """Whatever JSON arrives, the answer is a success or a 4xx problem, never a server error."""
    response = await client.post("/albums", json=body, headers=admin)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"]
