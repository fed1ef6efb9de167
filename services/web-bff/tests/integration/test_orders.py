from __future__ import annotations

import time

import httpx

from .edges import overlapping
from .musiccorp import MusicCorp

CHECKOUT = {
    "lines": [{"sku": "ALB-00001", "quantity": 2}, {"sku": "ALB-00002", "quantity": 1}],
    "delivery_address_id": "adr_home",
    "card_number": "4242424242424242",
}


async def place(client: httpx.AsyncClient, headers: dict[str, str], key: str = "key-1") -> str:
    response = await client.post("/api/checkout", json=CHECKOUT, headers=headers | {"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_the_orders_page_lists_the_customers_orders_as_summaries(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str], bob: dict[str, str]
) -> None:
    """Each order is a row: status label, total, how many albums and which; Bob sees none of Ann's."""
    order_id = await place(client, ann)
    response = await client.get("/api/orders", headers=ann)
    assert response.status_code == 200, response.text
    [summary] = response.json()["items"]
    assert summary["id"] == order_id
    assert (summary["status_label"], summary["item_count"]) == ("Order placed", 3)
    assert summary["titles"] == ["Blue Train", "Kind of Blue"]
    assert summary["total"] == {"amount_minor": 3597, "currency": "GBP"}
    assert (await client.get("/api/orders", headers=bob)).json() == {"items": [], "next_page": None}
    assert musiccorp.order.requests_to("/orders")[-1].headers["authorization"] == bob["Authorization"]


async def test_the_order_status_page_has_the_order_its_history_and_its_payment(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """One response for the page: the order with its progress, what happened to it, and its payment."""
    order_id = await place(client, ann)
    musiccorp.take_payment(order_id)
    response = await client.get(f"/api/orders/{order_id}", headers=ann)
    assert response.status_code == 200, response.text
    page = order = response.json()
    assert (order["status"], order["status_label"], order["can_cancel"]) == ("paid", "Payment taken", False)
    assert [(step["label"], step["reached"]) for step in order["progress"]] == [
        ("Order placed", True),
        ("Stock reserved", True),
        ("Payment taken", True),
        ("Dispatched", False),
    ]
    assert order["delivery"]["city"] == "London"
    assert [item["status_label"] for item in page["history"]] == ["Order placed", "Stock reserved", "Payment taken"]
    assert page["payment"]["status"] == "available"
    assert page["payment"]["data"]["status"] == "taken"
    assert page["payment"]["data"]["amount"] == {"amount_minor": 3597, "currency": "GBP"}
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/history"):
        assert musiccorp.order.requests_to(path)[0].headers["authorization"] == ann["Authorization"]
    assert musiccorp.payment.requests_to(f"/me/payments/{order_id}")[0].headers["authorization"] == ann["Authorization"]


async def test_an_order_not_yet_charged_has_no_payment(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """payment's 404 for an order it was not asked about yet is no failure: the payment part is null."""
    order_id = await place(client, ann)
    page = (await client.get(f"/api/orders/{order_id}", headers=ann)).json()
    assert page["payment"] == {"status": "available", "data": None}


async def test_the_order_page_is_shown_without_the_payment_when_payment_is_down(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """A payment service that is down leaves its part unavailable; the order and history are there."""
    order_id = await place(client, ann)
    musiccorp.payment.down = True
    response = await client.get(f"/api/orders/{order_id}", headers=ann)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["payment"] == {"status": "unavailable", "service": "payment", "reason": "payment cannot be reached"}
    assert (page["id"], page["status"]) == (order_id, "placed")


async def test_the_order_its_history_and_its_payment_are_asked_for_at_once(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """Three independent calls overlap: the page waits for the slowest, not for the sum."""
    order_id = await place(client, ann)
    musiccorp.order.delay = musiccorp.payment.delay = 0.3
    musiccorp.order.seen.clear()
    started = time.monotonic()
    response = await client.get(f"/api/orders/{order_id}", headers=ann)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert overlapping(*musiccorp.order.seen, *musiccorp.payment.seen)
    assert elapsed < 0.8  # one after another: 0.9 s at least


async def test_someone_elses_order_is_orders_404(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str], bob: dict[str, str]
) -> None:
    """Bob asking for Ann's order gets order's 404 (order decides by the token), not her order."""
    order_id = await place(client, ann)
    response = await client.get(f"/api/orders/{order_id}", headers=bob)
    assert response.status_code == 404
    assert (response.json()["title"], response.json()["service"]) == ("Order not found", "order")


async def test_an_order_id_that_is_not_one_is_refused_naming_it(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """A malformed order id is the BFF's 422 naming the path parameter; no service is asked."""
    response = await client.get("/api/orders/not-an-order", headers=ann)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["path.order_id"]
    assert musiccorp.order.seen == []


async def test_cancelling_an_order_passes_orders_answer_on(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """A placed order is cancelled; once it is paid, order's 409 reaches the page."""
    order_id = await place(client, ann)
    cancelled = await client.post(f"/api/orders/{order_id}/cancel", headers=ann)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status_label"], cancelled.json()["can_cancel"]) == ("Cancelled", False)
    again = await client.post(f"/api/orders/{order_id}/cancel", headers=ann)
    assert again.status_code == 409
    assert again.json()["title"] == "Order cannot be cancelled"


async def test_orders_failures_are_502_503_and_504_naming_order(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """order answering 500, answering 503, or not answering in time: 502, 503 or 504, each naming order."""
    musiccorp.order.failing_with = 500
    assert (await client.get("/api/orders", headers=ann)).status_code == 502
    musiccorp.order.failing_with = 503
    assert (await client.get("/api/orders", headers=ann)).status_code == 503
    musiccorp.order.failing_with, musiccorp.order.delay = None, 5.0
    timed_out = await client.get("/api/orders", headers=ann)
    assert timed_out.status_code == 504
    assert timed_out.json() | {"instance": None} == {
        "type": "about:blank",
        "title": "Gateway Timeout",
        "status": 504,
        "instance": None,
        "detail": "order did not answer within 2 s",
        "service": "order",
    }
