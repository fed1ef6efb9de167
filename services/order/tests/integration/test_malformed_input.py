from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .bodies import VISA, an_order, keyed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
skus = st.sampled_from(["ALB-00001", "ALB-00002", "ALB-99999"]) | json_values
line_like = st.fixed_dictionaries({}, optional={"sku": skus, "quantity": st.integers(-2, 120) | json_values})
order_like = st.fixed_dictionaries(
    {},
    optional={
        "lines": st.lists(line_like | json_values, max_size=4) | json_values,
        "delivery_address_id": st.sampled_from(["adr_home", "adr_nope", "../x", ""]) | json_values,
        "payment": st.fixed_dictionaries(
            {}, optional={"card_number": st.sampled_from([VISA, "4242424242424241", ""]) | json_values}
        )
        | json_values,
        "surprise": json_values,
    },
)
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(body=order_like | json_values)
async def test_no_order_body_makes_order_fail(client: httpx.AsyncClient, ann: dict[str, str], body: object) -> None:
    """Whatever JSON arrives, the answer is a success or a 4xx problem naming a field, never a server error."""
    response = await client.post("/orders", json=body, headers=keyed(ann))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["title"] and problem["errors"][0]["field"].startswith("body")
    assert VISA not in response.text  # neither an order nor a problem shows a card number


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "body.lines"),
        ({"lines": [{"sku": f"ALB-{n:05d}", "quantity": 1} for n in range(51)]}, "body.lines"),
        ({"lines": [{"sku": "ALB-00001", "quantity": 1}, {"sku": "ALB-00001", "quantity": 2}]}, "body.lines"),
        ({"lines": [{"sku": "ALB-00001", "quantity": 0}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "ALB-00001", "quantity": "2"}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "ALB-00001", "quantity": 100}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "alb 1", "quantity": 1}]}, "body.lines.0.sku"),
        ({"delivery_address_id": "../../admin"}, "body.delivery_address_id"),
        ({"payment": {"card_number": "4242424242424241"}}, "body.payment.card_number"),
        ({"payment": {"card_number": "4242-4242-4242-4242"}}, "body.payment.card_number"),
        ({"payment": {"card_number": 4242424242424242}}, "body.payment.card_number"),
        ({"payment": {}}, "body.payment.card_number"),
        ({"surprise": 1}, "body.surprise"),
    ],
)
async def test_a_malformed_order_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, ann: dict[str, str], change: dict[str, Any], field: str
) -> None:
    """422, with the offending field in ``errors`` and nothing stored."""
    response = await client.post("/orders", json=an_order() | change, headers=keyed(ann))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert "4242424242424241" not in response.text  # a rejected card number is not echoed either
    assert (await client.get("/orders", headers=ann)).json()["items"] == []
