from __future__ import annotations

import httpx
import pytest

from .bodies import an_order, keyed


async def place(client: httpx.AsyncClient, headers: dict[str, str], *lines: tuple[str, int]) -> dict[str, object]:
    response = await client.post("/orders", json=an_order(*lines), headers=keyed(headers))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_customers_orders_come_newest_first_a_page_at_a_time(
    client: httpx.AsyncClient, ann: dict[str, str]
) -> None:
    """Pages follow each other with next_cursor, without gaps or repeats, and the last page says it is."""
    placed = [(await place(client, ann, ("ALB-00001", n)))["id"] for n in range(1, 6)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await client.get("/orders", params=params, headers=ann)).json()
        seen += [order["id"] for order in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(placed))


async def test_customers_see_only_their_own_orders(
    client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str]
) -> None:
    """Bob's list is empty, and Ann's order is not found for him, nor its history."""
    order = await place(client, ann)
    assert (await client.get("/orders", headers=bob)).json()["items"] == []
    for path in (f"/orders/{order['id']}", f"/orders/{order['id']}/history"):
        response = await client.get(path, headers=bob)
        assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


async def test_an_admin_reads_anyones_order_and_its_history(
    client: httpx.AsyncClient, ann: dict[str, str], admin: dict[str, str]
) -> None:
    """The admin scope opens every order."""
    order = await place(client, ann)
    assert (await client.get(f"/orders/{order['id']}", headers=admin)).json()["id"] == order["id"]
    history = (await client.get(f"/orders/{order['id']}/history", headers=admin)).json()
    assert history["order_id"] == order["id"] and history["items"][0]["event"] == "placed"


async def test_a_malformed_cursor_or_order_id_is_a_problem_naming_it(
    client: httpx.AsyncClient, ann: dict[str, str]
) -> None:
    """422 naming query.after or path.order_id, not a server error."""
    for cursor in ("not-a-cursor", "WyJ4Il0", "W10"):
        response = await client.get("/orders", params={"after": cursor}, headers=ann)
        assert response.status_code == 422, cursor
        assert response.json()["errors"][0]["field"] == "query.after"
    response = await client.get("/orders/..%2F..%2Fetc", headers=ann)
    assert response.status_code in (404, 422)
    assert (await client.get("/orders/ord-nope", headers=ann)).json()["errors"][0]["field"] == "path.order_id"


async def test_reading_needs_a_token(client: httpx.AsyncClient) -> None:
    """Without one, 401 with a Bearer challenge."""
    response = await client.get("/orders")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_customer_cancels_a_placed_order(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """200 with the cancelled order; the history says who and when."""
    order = await place(client, ann)
    response = await client.post(f"/orders/{order['id']}/cancel", headers=ann)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    history = (await client.get(f"/orders/{order['id']}/history", headers=ann)).json()["items"]
    assert [(e["status"], e["event"], e["reason"]) for e in history][-1] == (
        "cancelled",
        "cancelled",
        "cancelled by the customer",
    )


async def test_cancelling_twice_is_a_conflict_naming_the_state(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """409: the order is cancelled already, and says so."""
    order = await place(client, ann)
    await client.post(f"/orders/{order['id']}/cancel", headers=ann)
    response = await client.post(f"/orders/{order['id']}/cancel", headers=ann)
    assert response.status_code == 409
    assert "is cancelled" in response.json()["detail"]


@pytest.mark.parametrize("who", ["bob", "admin"])
async def test_only_the_customer_cancels_their_order(
    client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str], admin: dict[str, str], who: str
) -> None:
    """Another customer is told there is no such order; an admin's token is not a customer's."""
    order = await place(client, ann)
    response = await client.post(f"/orders/{order['id']}/cancel", headers={"bob": bob, "admin": admin}[who])
    assert response.status_code == {"bob": 404, "admin": 403}[who]
    assert (await client.get(f"/orders/{order['id']}", headers=ann)).json()["status"] == "placed"
