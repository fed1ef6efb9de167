from __future__ import annotations

import httpx

from .values import DECLINED_CARD, charge_body, key


async def _charge(client: httpx.AsyncClient, *, card: str | None = None) -> dict[str, object]:
    body = charge_body(card=card) if card else charge_body()
    response = await client.post("/charges", json=body, headers=key("charge-1"))
    assert response.status_code == 201
    charge: dict[str, object] = response.json()
    return charge


async def test_a_charge_is_refunded_in_full_by_default(client: httpx.AsyncClient) -> None:
    """A refund without an amount gives everything back, and the charge shows it."""
    charge = await _charge(client)
    response = await client.post(f"/charges/{charge['id']}/refunds", headers=key("refund-1"))
    assert response.status_code == 201
    refund = response.json()
    assert (refund["charge_id"], refund["amount_minor"], refund["currency"]) == (charge["id"], 1299, "GBP")
    after = (await client.get(f"/charges/{charge['id']}")).json()
    assert after["refunded_minor"] == 1299
    assert [r["id"] for r in after["refunds"]] == [refund["id"]]


async def test_the_same_refund_key_gives_back_once(client: httpx.AsyncClient) -> None:
    """A refund sent again under its key replays the first one; the money goes back once."""
    charge = await _charge(client)
    first = await client.post(f"/charges/{charge['id']}/refunds", json={"amount_minor": 500}, headers=key("refund-1"))
    again = await client.post(f"/charges/{charge['id']}/refunds", json={"amount_minor": 500}, headers=key("refund-1"))
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (201, 200, "true")
    assert again.json() == first.json()
    assert (await client.get(f"/charges/{charge['id']}")).json()["refunded_minor"] == 500


async def test_a_refund_beyond_what_is_left_is_refused(client: httpx.AsyncClient) -> None:
    """A refund of more than is left of the charge is a 409 problem."""
    charge = await _charge(client)
    await client.post(f"/charges/{charge['id']}/refunds", json={"amount_minor": 1000}, headers=key("refund-1"))
    response = await client.post(
        f"/charges/{charge['id']}/refunds", json={"amount_minor": 300}, headers=key("refund-2")
    )
    assert response.status_code == 409
    assert response.json()["title"] == "Refund exceeds what is left of the charge"


async def test_a_declined_charge_cannot_be_refunded(client: httpx.AsyncClient) -> None:
    """A declined charge took nothing: refunding it is a 409 problem."""
    charge = await _charge(client, card=DECLINED_CARD)
    response = await client.post(f"/charges/{charge['id']}/refunds", headers=key("refund-1"))
    assert response.status_code == 409
    assert response.json()["title"] == "Charge cannot be refunded"


async def test_a_refund_of_an_unknown_charge_is_not_found(client: httpx.AsyncClient) -> None:
    """Refunding a charge the processor never made is a 404 problem."""
    response = await client.post("/charges/ch_unknown/refunds", headers=key("refund-1"))
    assert response.status_code == 404
