from __future__ import annotations

import time

import httpx

from .edges import overlapping
from .musiccorp import MusicCorp


async def test_the_basket_is_priced_by_the_catalog_now(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """Each line at the catalog's price times its quantity, the total of them, and each line's availability."""
    basket = {"lines": [{"sku": "ALB-00001", "quantity": 2}, {"sku": "ALB-00002", "quantity": 1}]}
    response = await client.post("/api/basket/price", json=basket)
    assert response.status_code == 200, response.text
    priced = response.json()
    assert [(line["sku"], line["total"]["amount_minor"], line["availability"]) for line in priced["lines"]] == [
        ("ALB-00001", 2598, "in_stock"),
        ("ALB-00002", 999, "low_stock"),
    ]
    assert priced["total"] == {"amount_minor": 3597, "currency": "GBP"}
    assert (priced["unknown_skus"], priced["unavailable"]) == ([], [])


async def test_a_price_change_shows_at_the_next_pricing(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """The page keeps the lines, not the prices: the catalog's price of the moment is what the basket shows."""
    basket = {"lines": [{"sku": "ALB-00001", "quantity": 1}]}
    before = (await client.post("/api/basket/price", json=basket)).json()
    musiccorp.catalog.albums["ALB-00001"]["price"] = {"amount_minor": 1499, "currency": "GBP"}
    after = (await client.post("/api/basket/price", json=basket)).json()
    assert (before["total"]["amount_minor"], after["total"]["amount_minor"]) == (1299, 1499)


async def test_skus_the_catalog_no_longer_sells_are_listed_apart(client: httpx.AsyncClient) -> None:
    """A line the catalog does not know is not priced and not a failure: the page is told to take it out."""
    basket = {"lines": [{"sku": "ALB-00001", "quantity": 1}, {"sku": "GONE-001", "quantity": 1}]}
    priced = (await client.post("/api/basket/price", json=basket)).json()
    assert [line["sku"] for line in priced["lines"]] == ["ALB-00001"]
    assert priced["unknown_skus"] == ["GONE-001"]
    assert priced["total"]["amount_minor"] == 1299
    only_gone = (await client.post("/api/basket/price", json={"lines": [{"sku": "GONE-001", "quantity": 1}]})).json()
    assert (only_gone["lines"], only_gone["total"]) == ([], None)


async def test_the_lines_are_priced_at_once(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """The catalog is asked for every line and the warehouse for the stock at the same time, not one by one."""
    musiccorp.catalog.delay = musiccorp.warehouse.delay = 0.3
    lines = [{"sku": sku, "quantity": 1} for sku in ("ALB-00001", "ALB-00002", "ALB-00003")]
    started = time.monotonic()
    response = await client.post("/api/basket/price", json={"lines": lines})
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    calls = musiccorp.catalog.seen + musiccorp.warehouse.seen
    assert len(calls) == 4
    assert overlapping(*calls)
    assert elapsed < 0.9  # one after another: 1.2 s at least


async def test_a_basket_is_priced_without_availability_when_the_warehouse_is_down(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """Prices need the catalog only; without the warehouse the lines say availability unknown."""
    musiccorp.warehouse.failing_with = 500
    priced = (await client.post("/api/basket/price", json={"lines": [{"sku": "ALB-00001", "quantity": 1}]})).json()
    assert priced["lines"][0]["availability"] == "unknown"
    assert priced["unavailable"] == [
        {"status": "unavailable", "service": "warehouse", "reason": "warehouse failed (500)"}
    ]
    assert priced["total"]["amount_minor"] == 1299


async def test_a_basket_cannot_be_priced_without_the_catalog(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """Without prices there is no basket to show: the catalog being down is a 503 naming it."""
    musiccorp.catalog.down = True
    response = await client.post("/api/basket/price", json={"lines": [{"sku": "ALB-00001", "quantity": 1}]})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["service"] == "catalog"


async def test_albums_in_two_currencies_have_no_one_total(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """A basket priced in two currencies is refused with a 409 problem, not added up."""
    musiccorp.catalog.albums["ALB-00002"]["price"] = {"amount_minor": 1099, "currency": "EUR"}
    lines = [{"sku": "ALB-00001", "quantity": 1}, {"sku": "ALB-00002", "quantity": 1}]
    response = await client.post("/api/basket/price", json={"lines": lines})
    assert response.status_code == 409
    assert response.json()["title"] == "Basket cannot be totalled"
    assert "EUR, GBP" in response.json()["detail"]
