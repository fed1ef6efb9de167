from __future__ import annotations

import asyncio

import httpx

from .values import DECLINED_CARD, GOOD_CARD, NOT_A_CARD, Start, charge_body, key


async def test_a_good_card_is_charged(client: httpx.AsyncClient) -> None:
    """A charge of a good card succeeds and shows the amount, the reference and the card's last four digits."""
    response = await client.post("/charges", json=charge_body(), headers=key("k-1"))
    assert response.status_code == 201, response.text
    charge = response.json()
    assert charge["id"].startswith("ch_")
    assert (charge["status"], charge["decline_code"]) == ("succeeded", None)
    assert (charge["amount_minor"], charge["currency"], charge["reference"]) == (1299, "GBP", "o-1")
    assert charge["card_last4"] == "4242"
    assert "card_number" not in charge


async def test_the_declined_test_card_is_declined_with_a_code(client: httpx.AsyncClient) -> None:
    """The well-known declined test card makes a declined charge, with the code card_declined."""
    response = await client.post("/charges", json=charge_body(card=DECLINED_CARD), headers=key("k-1"))
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["decline_code"]) == ("declined", "card_declined")


async def test_the_same_key_returns_the_same_charge(client: httpx.AsyncClient) -> None:
    """Sending a charge again under its key replays the first answer and charges nothing more."""
    first = await client.post("/charges", json=charge_body(), headers=key("k-1"))
    again = await client.post("/charges", json=charge_body(), headers=key("k-1"))
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    listed = await client.get("/charges", params={"reference": "o-1"})
    assert [c["id"] for c in listed.json()["items"]] == [first.json()["id"]]


async def test_requests_with_one_key_at_once_make_one_charge(client: httpx.AsyncClient) -> None:
    """Concurrent requests under one key make one charge: the others replay it or are told the key is busy."""
    answers = await asyncio.gather(*(client.post("/charges", json=charge_body(), headers=key("k-1")) for _ in range(5)))
    assert {a.status_code for a in answers} <= {200, 201, 409}
    assert len({a.json()["id"] for a in answers if a.status_code < 300}) == 1
    listed = await client.get("/charges", params={"reference": "o-1"})
    assert len(listed.json()["items"]) == 1


async def test_a_key_reused_for_another_charge_is_refused(client: httpx.AsyncClient) -> None:
    """A used key with a different amount is refused with 422, and the first charge stands."""
    await client.post("/charges", json=charge_body(), headers=key("k-1"))
    response = await client.post("/charges", json=charge_body(amount_minor=1), headers=key("k-1"))
    assert response.status_code == 422
    assert response.json()["title"] == "Idempotency key reused for a different request"


async def test_a_charge_needs_an_idempotency_key(client: httpx.AsyncClient) -> None:
    """A charge without an Idempotency-Key header is refused with a problem naming the header."""
    response = await client.post("/charges", json=charge_body())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_a_number_failing_the_luhn_check_is_refused_without_being_echoed(client: httpx.AsyncClient) -> None:
    """A card number with a wrong check digit gets a 422 naming the field, and the number is not in the answer."""
    response = await client.post("/charges", json=charge_body(card=NOT_A_CARD), headers=key("k-1"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body.card_number"
    assert "Luhn" in response.json()["detail"]
    assert NOT_A_CARD not in response.text


async def test_a_charge_is_read_back_by_id_and_by_reference(client: httpx.AsyncClient) -> None:
    """GET /charges/{id} returns the charge; GET /charges?reference= lists a reference's charges, oldest first."""
    first = (await client.post("/charges", json=charge_body(), headers=key("k-1"))).json()
    second = (await client.post("/charges", json=charge_body(card=DECLINED_CARD), headers=key("k-2"))).json()
    assert (await client.get(f"/charges/{first['id']}")).json() == first
    listed = await client.get("/charges", params={"reference": "o-1"})
    assert [c["id"] for c in listed.json()["items"]] == [first["id"], second["id"]]
    assert (await client.get("/charges", params={"reference": "o-2"})).json() == {"items": []}


async def test_an_unknown_charge_is_not_found(client: httpx.AsyncClient) -> None:
    """An id the processor never gave is a 404 problem."""
    response = await client.get("/charges/ch_unknown")
    assert response.status_code == 404
    assert response.json()["title"] == "Charge not found"


async def test_a_charge_is_replayed_after_a_restart(start: Start) -> None:
    """The processor keeps its charges in its database: after a restart the same key replays the same charge."""
    async with start() as client:
        first = (await client.post("/charges", json=charge_body(), headers=key("k-1"))).json()
    async with start() as restarted:
        again = await restarted.post("/charges", json=charge_body(), headers=key("k-1"))
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]


async def test_the_api_key_is_required_when_configured(start: Start) -> None:
    """With an API key configured, requests without it or with another are refused with 401."""
    async with start(provider_api_key="sk_test_secret") as client:
        missing = await client.post("/charges", json=charge_body(), headers=key("k-1"))
        wrong = await client.post(
            "/charges", json=charge_body(), headers={**key("k-1"), "Authorization": "Bearer sk_test_other"}
        )
        right = await client.post(
            "/charges",
            json=charge_body(card=GOOD_CARD),
            headers={**key("k-1"), "Authorization": "Bearer sk_test_secret"},
        )
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 201)
