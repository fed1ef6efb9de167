from __future__ import annotations

import time

import httpx
import pytest

from .edges import TOKENS
from .musiccorp import ANN, MusicCorp

CARD = "4242424242424242"
CHECKOUT = {"lines": [{"sku": "ALB-00001", "quantity": 2}], "delivery_address_id": "adr_home", "card_number": CARD}


def keyed(headers: dict[str, str], key: str = "checkout-1") -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


async def test_checkout_places_the_order_at_order_for_the_signed_in_customer(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """The basket goes to order's POST /orders in order's shape, with Ann's own token and the Idempotency-Key."""
    response = await client.post("/api/checkout", json=CHECKOUT, headers=keyed(ann))
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/api/orders/{order['id']}"
    assert (order["status"], order["status_label"], order["can_cancel"]) == ("placed", "Order placed", True)
    assert order["total"] == {"amount_minor": 2598, "currency": "GBP"}
    assert order["card_last4"] == "4242"
    assert [step["reached"] for step in order["progress"]] == [True, False, False, False]
    [sent] = musiccorp.order.seen
    assert sent.request.headers["authorization"] == ann["Authorization"]
    assert sent.request.headers["idempotency-key"] == "checkout-1"
    assert sent.json == {
        "lines": [{"sku": "ALB-00001", "quantity": 2}],
        "delivery_address_id": "adr_home",
        "payment": {"card_number": CARD},
    }
    assert musiccorp.order.orders[order["id"]]["customer_id"] == ANN


async def test_a_retried_checkout_gets_the_same_order(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """The same Idempotency-Key again is order's 200 with the first order: nothing is placed twice."""
    first = await client.post("/api/checkout", json=CHECKOUT, headers=keyed(ann))
    again = await client.post("/api/checkout", json=CHECKOUT, headers=keyed(ann))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(musiccorp.order.orders) == 1


@pytest.mark.parametrize("key", [None, "", "k" * 256])
async def test_checkout_without_a_good_idempotency_key_is_refused_before_order_is_asked(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str], key: str | None
) -> None:
    """A missing or malformed Idempotency-Key is a 400 problem naming the header; order is not called."""
    headers = ann if key is None else ann | {"Idempotency-Key": key}
    response = await client.post("/api/checkout", json=CHECKOUT, headers=headers)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["header.Idempotency-Key"]
    assert musiccorp.order.seen == []


async def test_orders_refusal_names_the_field_it_refused(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """order's 422 for an address that is not Ann's reaches the page with its field and detail."""
    response = await client.post(
        "/api/checkout", json=CHECKOUT | {"delivery_address_id": "adr_other"}, headers=keyed(ann)
    )
    assert response.status_code == 422
    problem = response.json()
    assert (problem["title"], problem["service"]) == ("Order is not valid", "order")
    assert [error["field"] for error in problem["errors"]] == ["body.delivery_address_id"]


async def test_a_mistyped_card_number_is_caught_before_order_is_asked(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """A card number failing the Luhn check is a 422 naming it, and the number is not echoed back."""
    response = await client.post(
        "/api/checkout", json=CHECKOUT | {"card_number": "4242424242424241"}, headers=keyed(ann)
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.card_number"]
    assert "4242424242424241" not in response.text
    assert musiccorp.order.seen == []


async def test_checkout_needs_a_customers_token(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """No token is 401; a service client's or an admin's token is 403; order is asked nothing."""
    anonymous = await client.post("/api/checkout", json=CHECKOUT, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401
    for token in (TOKENS.bearer("order", "customers:read", client=True), TOKENS.bearer("admin-1", "admin")):
        assert (await client.post("/api/checkout", json=CHECKOUT, headers=keyed(token))).status_code == 403
    expired = {"Authorization": f"Bearer {TOKENS.token(ANN, 'customer', lifetime=-120)}"}
    assert (await client.post("/api/checkout", json=CHECKOUT, headers=keyed(expired))).status_code == 401
    assert musiccorp.order.seen == []


async def test_a_checkout_without_an_answer_in_time_says_to_retry_with_the_same_key(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """Past the checkout deadline the answer is a 504 naming order, telling the page to retry with the same key."""
    musiccorp.order.delay = 30.0
    started = time.monotonic()
    response = await client.post("/api/checkout", json=CHECKOUT, headers=keyed(ann))
    assert time.monotonic() - started < 10
    assert response.status_code == 504
    problem = response.json()
    assert problem["service"] == "order"
    assert problem["detail"] == (
        "order did not answer within 1.5 s; the order may have been placed: send it again with the same Idempotency-Key"
    )


async def test_a_checkout_that_order_fails_says_to_retry_with_the_same_key(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """order's 500 is a 502 naming order that also tells the page a retry with the same key is safe."""
    musiccorp.order.failing_with = 500
    response = await client.post("/api/checkout", json=CHECKOUT, headers=keyed(ann))
    assert response.status_code == 502
    assert response.json()["detail"] == (
        "order failed (500); the order may have been placed: send it again with the same Idempotency-Key"
    )
