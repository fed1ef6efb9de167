from __future__ import annotations

import time

import httpx

from .musiccorp import MusicCorp


async def test_browse_merges_the_catalogs_albums_with_the_warehouses_availability(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """Each album on the grid carries its price from the catalog and its availability from the warehouse."""
    response = await client.get("/api/browse")
    assert response.status_code == 200, response.text
    page = response.json()
    cards = {card["sku"]: card for card in page["items"]}
    assert cards["ALB-00001"]["price"] == {"amount_minor": 1299, "currency": "GBP"}
    assert (cards["ALB-00001"]["availability"], cards["ALB-00001"]["units_left"]) == ("in_stock", None)
    assert (cards["ALB-00002"]["availability"], cards["ALB-00002"]["units_left"]) == ("low_stock", 3)
    assert cards["ALB-00003"]["availability"] == "out_of_stock"
    assert cards["ALB-00004"]["availability"] == "out_of_stock"  # the warehouse has none of it
    assert page["unavailable"] == []
    [asked] = musiccorp.warehouse.requests_to("/stock")
    assert asked.url.params.get_list("sku") == ["ALB-00001", "ALB-00002", "ALB-00003", "ALB-00004"]


async def test_browse_passes_search_genre_and_page_on_to_the_catalog(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """The grid's filters and its page token become the catalog's query, and its cursor the next page."""
    first = (await client.get("/api/browse", params={"genre": "jazz", "limit": 2})).json()
    assert [card["sku"] for card in first["items"]] == ["ALB-00001", "ALB-00002"]
    assert first["next_page"] == "ALB-00002"
    second = (await client.get("/api/browse", params={"genre": "jazz", "limit": 2, "page": "ALB-00002"})).json()
    assert [card["sku"] for card in second["items"]] == ["ALB-00003"]
    assert second["next_page"] is None
    searched = (await client.get("/api/browse", params={"q": "radio"})).json()
    assert [card["title"] for card in searched["items"]] == ["OK Computer"]
    assert musiccorp.catalog.seen[1].request.url.params["after"] == "ALB-00002"


async def test_an_empty_page_asks_the_warehouse_nothing(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """No albums found means no stock to look up."""
    response = await client.get("/api/browse", params={"q": "nothing like this"})
    assert response.json() == {"items": [], "next_page": None, "unavailable": []}
    assert musiccorp.warehouse.seen == []


async def test_the_grid_renders_with_availability_unknown_when_the_warehouse_is_down(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """A warehouse that cannot be reached degrades the page (availability unknown), it does not fail it."""
    musiccorp.warehouse.down = True
    response = await client.get("/api/browse")
    assert response.status_code == 200, response.text
    page = response.json()
    assert {card["availability"] for card in page["items"]} == {"unknown"}
    assert page["unavailable"] == [
        {"status": "unavailable", "service": "warehouse", "reason": "warehouse cannot be reached"}
    ]


async def test_a_slow_warehouse_is_waited_for_only_until_the_optional_deadline(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """The page does not wait the warehouse's 5 s: it answers after the 0.8 s deadline, availability unknown."""
    musiccorp.warehouse.delay = 5.0
    started = time.monotonic()
    response = await client.get("/api/browse")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert {card["availability"] for card in response.json()["items"]} == {"unknown"}
    assert response.json()["unavailable"][0]["reason"] == "warehouse did not answer within 0.8 s"
    assert 0.8 <= elapsed < 3.0


async def test_browsing_sends_no_customer_token_to_the_catalog_or_warehouse(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """Public reads go without the customer's token: a service gets a token only when it acts for them."""
    await client.get("/api/browse", headers=ann)
    for seen in musiccorp.catalog.seen + musiccorp.warehouse.seen:
        assert "authorization" not in seen.request.headers


async def test_the_callers_correlation_id_travels_to_every_call(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """One correlation id ties the page's request to every call it made, for tracing across services."""
    await client.get("/api/browse", headers={"x-correlation-id": "corr-browse-1"})
    calls = musiccorp.catalog.seen + musiccorp.warehouse.seen
    assert len(calls) == 2
    assert {seen.request.headers.get("x-correlation-id") for seen in calls} == {"corr-browse-1"}
