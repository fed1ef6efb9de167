from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
text_or_anything = json_values | st.text(max_size=120)
address_like = st.fixed_dictionaries(
    {},
    optional={
        "name": text_or_anything,
        "lines": json_values | st.lists(text_or_anything, max_size=6),
        "city": text_or_anything,
        "postcode": text_or_anything,
        "country": json_values | st.sampled_from(["GB", "UK", "gb", "ZZ", "DE", " GB"]),
    },
)
profile_like = st.fixed_dictionaries(
    {}, optional={"display_name": text_or_anything, "email": json_values | st.emails() | st.text(max_size=40)}
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _is_a_problem_naming_fields(response: httpx.Response) -> bool:
    if response.status_code < 400:
        return True
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code != 422 or all(error["field"].startswith("body") for error in body["errors"])


@SETTINGS
@given(body=address_like | json_values)
async def test_no_address_makes_the_service_fail(client: httpx.AsyncClient, ann: dict[str, str], body: object) -> None:
    """Whatever JSON arrives as an address, the answer is a success or a 4xx problem naming body fields."""
    await client.put("/me/profile", json={"display_name": "Ann", "email": "ann@example.com"}, headers=ann)
    response = await client.post("/me/addresses", json=body, headers=ann)
    assert response.status_code < 500, response.text
    assert _is_a_problem_naming_fields(response), response.text
    if response.status_code == 201:
        # Kept within the limit: a property run must not trip over it.
        assert (await client.delete(response.headers["location"], headers=ann)).status_code == 204


@SETTINGS
@given(body=profile_like | json_values)
async def test_no_profile_makes_the_service_fail(client: httpx.AsyncClient, ann: dict[str, str], body: object) -> None:
    """Whatever JSON arrives as a profile, the answer is a success or a 4xx problem naming body fields."""
    response = await client.put("/me/profile", json=body, headers=ann)
    assert response.status_code < 500, response.text
    assert _is_a_problem_naming_fields(response), response.text
