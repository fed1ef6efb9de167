from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
skus = st.sampled_from(["ALB-00001", "ALB-00002", "ALB-00010"]) | json_values
line_like = st.fixed_dictionaries({}, optional={"sku": skus, "quantity": st.integers(-2, 5) | json_values})
reservation_like = st.fixed_dictionaries(
    {},
    optional={
        "order_id": st.from_regex(r"[a-z]{1,8}-[0-9]{1,4}", fullmatch=True) | json_values,
        "lines": st.lists(line_like | json_values, max_size=4) | json_values,
        "ttl_seconds": st.integers(-5, 10**7) | json_values,
        "surprise": json_values,
    },
)
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_problem(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"]


@fuzz
@given(body=reservation_like | json_values)
async def test_no_reservation_body_makes_the_warehouse_fail(
    client: httpx.AsyncClient, admin: dict[str, str], body: object
) -> None:
    """Whatever JSON arrives to reserve, the answer is a success or a 4xx problem, never a server error."""
    assert_problem(await client.post("/reservations", json=body, headers=admin))


@fuzz
@given(body=st.fixed_dictionaries({}, optional={"quantity": json_values, "more": json_values}) | json_values)
async def test_no_delivery_body_makes_the_warehouse_fail(
    client: httpx.AsyncClient, admin: dict[str, str], body: object
) -> None:
    """Whatever JSON arrives as a delivery, the answer is a success or a 4xx problem, never a server error."""
    assert_problem(await client.put("/stock/ALB-00001/receipts/fuzz-1", json=body, headers=admin))


VALID_LINE = {"sku": "ALB-00001", "quantity": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "body.lines"),
        ({"lines": None}, "body.lines"),
        ({"lines": [VALID_LINE, VALID_LINE]}, "body.lines"),
        ({"lines": [{"sku": "ALB-00001", "quantity": 0}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "ALB-00001", "quantity": 1.5}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "ALB-00001", "quantity": "2"}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "ALB-00001", "quantity": True}]}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "not a sku", "quantity": 1}]}, "body.lines.0.sku"),
        ({"lines": [{"quantity": 1}]}, "body.lines.0.sku"),
        ({"order_id": ""}, "body.order_id"),
        ({"order_id": "has spaces"}, "body.order_id"),
        ({"ttl_seconds": 0}, "body.ttl_seconds"),
        ({"ttl_seconds": 10**9}, "body.ttl_seconds"),
        ({"surprise": 1}, "body.surprise"),
    ],
)
async def test_a_malformed_reservation_names_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    """Each way a reservation can be malformed is a 422 problem naming the field, and holds nothing."""
    body = {"order_id": "o-1", "lines": [VALID_LINE]} | change
    response = await client.post("/reservations", json=body, headers=admin)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert (await client.get("/stock/ALB-00001")).json()["available"] == 10


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("PUT", "/stock/ALB-00001/receipts/r-1", {"quantity": -1}, "body.quantity"),
        ("PUT", "/stock/ALB-00001/receipts/r-1", {}, "body.quantity"),
        ("PUT", "/stock/alb 1/receipts/r-1", {"quantity": 1}, "path.sku"),
        ("PUT", "/stock/ALB-00001/receipts/r%201", {"quantity": 1}, "path.receipt_id"),
        ("GET", "/stock/not-A-SKU", None, "path.sku"),
        ("GET", "/stock", None, "query.sku"),
        ("GET", "/stock?sku=ALB-00001&sku=bad", None, "query.sku.1"),
        ("POST", "/reservations/o%201/release", None, "path.order_id"),
    ],
)
async def test_malformed_paths_queries_and_deliveries_name_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], method: str, url: str, body: object, field: str
) -> None:
    """Bad SKUs, ids, quantities and missing parameters are 422 problems naming where they are."""
    response = await client.request(method, url, json=body, headers=admin)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
