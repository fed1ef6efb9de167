from __future__ import annotations

import httpx
import nats
from paved import Envelope, Service
from paved.testing import TestTokens
from sqlalchemy import select

from order.tables import metadata

from .bodies import an_order, keyed
from .edges import Edges


async def test_a_customer_places_an_order_at_the_catalogs_prices_to_their_address(
    client: httpx.AsyncClient, ann: dict[str, str]
) -> None:
    """201 with the order: titles and prices from the catalog, the total, the address copied, the card's last digits."""
    response = await client.post("/orders", json=an_order(("ALB-00001", 2), ("ALB-00002", 1)), headers=keyed(ann))
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert (order["customer_id"], order["status"], order["card_last4"]) == ("acc_ann", "placed", "4242")
    assert [(line["title"], line["quantity"], line["total"]["amount_minor"]) for line in order["lines"]] == [
        ("Blue Train", 2, 2598),
        ("Kind of Blue", 1, 999),
    ]
    assert order["total"] == {"amount_minor": 3597, "currency": "GBP"}
    assert order["delivery_address"] == {
        "address_id": "adr_home",
        "name": "Ann Smith",
        "lines": ["1 High Street", "Flat 2"],
        "city": "London",
        "postcode": "N1 1AA",
        "country": "GB",
    }
    assert (await client.get(f"/orders/{order['id']}", headers=ann)).json() == order
    history = (await client.get(f"/orders/{order['id']}/history", headers=ann)).json()
    assert [(e["status"], e["event"]) for e in history["items"]] == [("placed", "placed")]


async def test_the_order_keeps_the_address_and_prices_it_was_placed_with(
    client: httpx.AsyncClient, ann: dict[str, str], edges: Edges
) -> None:
    """A later change of the address or the price does not change an order already placed."""
    placed = (await client.post("/orders", json=an_order(), headers=keyed(ann))).json()
    edges.addresses[("acc_ann", "adr_home")]["city"] = "Leeds"
    edges.albums["ALB-00001"]["price"] = {"amount_minor": 1, "currency": "GBP"}
    again = (await client.get(f"/orders/{placed['id']}", headers=ann)).json()
    assert again["delivery_address"]["city"] == "London"
    assert again["total"]["amount_minor"] == 2598


async def test_a_retry_with_the_same_key_and_body_gets_the_same_order(
    client: httpx.AsyncClient, ann: dict[str, str], edges: Edges
) -> None:
    """200 with the first order, without asking the catalog again; the customer has one order."""
    headers = keyed(ann)
    first = await client.post("/orders", json=an_order(("ALB-00001", 2), ("ALB-00002", 1)), headers=headers)
    calls = edges.catalog_calls
    again = await client.post("/orders", json=an_order(("ALB-00002", 1), ("ALB-00001", 2)), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert edges.catalog_calls == calls
    assert len((await client.get("/orders", headers=ann)).json()["items"]) == 1


async def test_another_body_under_a_used_key_is_refused(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """422 naming the key: a key stands for one order request."""
    headers = keyed(ann, "ann-order-1")
    await client.post("/orders", json=an_order(("ALB-00001", 2)), headers=headers)
    response = await client.post("/orders", json=an_order(("ALB-00001", 3)), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "ann-order-1" in response.json()["detail"]


async def test_the_same_key_from_another_customer_is_another_order(
    client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str], edges: Edges
) -> None:
    """Keys are per customer."""
    edges.addresses[("acc_bob", "adr_home")] = edges.addresses[("acc_ann", "adr_home")]
    anns = await client.post("/orders", json=an_order(), headers=keyed(ann, "same"))
    bobs = await client.post("/orders", json=an_order(), headers=keyed(bob, "same"))
    assert (anns.status_code, bobs.status_code) == (201, 201)
    assert anns.json()["id"] != bobs.json()["id"]


async def test_without_an_idempotency_key_nothing_is_ordered(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """400 naming the header, for a missing key and for one that is not a key."""
    for headers in (ann, {**ann, "Idempotency-Key": "k" * 256}, {**ann, "Idempotency-Key": ""}):
        response = await client.post("/orders", json=an_order(), headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert (await client.get("/orders", headers=ann)).json()["items"] == []


async def test_an_album_the_catalog_does_not_sell_is_named_and_nothing_is_ordered(
    client: httpx.AsyncClient, ann: dict[str, str]
) -> None:
    """422 naming the unknown SKU, on the lines field."""
    response = await client.post("/orders", json=an_order(("ALB-00001", 1), ("ALB-99999", 1)), headers=keyed(ann))
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "body.lines" and "ALB-99999" in problem["detail"]
    assert (await client.get("/orders", headers=ann)).json()["items"] == []


async def test_an_address_that_is_not_the_customers_is_refused(
    client: httpx.AsyncClient, bob: dict[str, str], edges: Edges
) -> None:
    """Bob cannot send his order to Ann's address: order asks the customer service with Bob's own token,
    and to him there is no such address."""
    response = await client.post("/orders", json=an_order(address="adr_home"), headers=keyed(bob))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.delivery_address_id"
    assert edges.customer_calls == [("acc_bob", "/me/addresses/adr_home")]


async def test_with_the_catalog_or_customer_service_down_the_answer_is_503_and_nothing_is_stored(
    client: httpx.AsyncClient, ann: dict[str, str], edges: Edges
) -> None:
    """The customer may try again later; the same key then places the order."""
    headers = keyed(ann)
    edges.catalog_down = True
    assert (await client.post("/orders", json=an_order(), headers=headers)).status_code == 503
    edges.catalog_down, edges.customer_down = False, True
    down = await client.post("/orders", json=an_order(), headers=headers)
    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert (await client.get("/orders", headers=ann)).json()["items"] == []
    edges.customer_down = False
    assert (await client.post("/orders", json=an_order(), headers=headers)).status_code == 201


async def test_a_catalog_slower_than_the_deadline_is_503(
    client: httpx.AsyncClient, ann: dict[str, str], edges: Edges
) -> None:
    """Order does not wait past its lookup deadline (1 s in these tests)."""
    edges.catalog_delay = 3.0
    response = await client.post("/orders", json=an_order(), headers=keyed(ann))
    assert response.status_code == 503
    assert "did not answer within" in response.json()["detail"]


async def test_the_card_number_is_stored_nowhere_readable(
    client: httpx.AsyncClient, ann: dict[str, str], service: Service
) -> None:
    """No row of any of order's tables (the outbox included) holds the card number or its digits run."""
    await client.post("/orders", json=an_order(card="4000056655665556"), headers=keyed(ann))
    async with service.database.read() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert "4000056655665556" not in repr(row), f"the card number is readable in {table.name}"


async def test_placing_publishes_order_placed_with_the_customer_and_total(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str
) -> None:
    """OrderPlaced goes to ORDER_EVENTS through the outbox, with the lines and total."""
    order = (await client.post("/orders", json=an_order(("ALB-00003", 1)), headers=keyed(ann))).json()
    connection = await nats.connect(broker_url)
    try:
        subscription = await connection.jetstream().subscribe("order.events.order-placed", ordered_consumer=True)
        while True:
            envelope = Envelope.from_bytes((await subscription.next_msg(timeout=10)).data)
            if envelope.data["order_id"] == order["id"]:
                break
    finally:
        await connection.close()
    assert envelope.type == "order.OrderPlaced"
    assert envelope.data["customer_id"] == "acc_ann"
    assert envelope.data["total"] == {"amount_minor": 1099, "currency": "GBP"}
    assert [line["title"] for line in envelope.data["lines"]] == ["Mingus Ah Um"]


async def test_only_a_signed_in_customer_places_orders(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    """No token: 401. An admin's or a service's token, without the customer scope: 403."""
    assert (await client.post("/orders", json=an_order(), headers={"Idempotency-Key": "k"})).status_code == 401
    for headers in (tokens.bearer("acc_root", "admin"), tokens.bearer("customer", "customer", client=True)):
        assert (await client.post("/orders", json=an_order(), headers=keyed(headers))).status_code == 403
