from __future__ import annotations

import asyncio

import httpx
import pytest
from paved import Envelope
from paved.testing import BrokerProbe, TestTokens, eventually

NEW_ALBUM = {
    "sku": "TEST-0001",
    "title": "In Rainbows",
    "artist": "Radiohead",
    "genre": "Rock",
    "released": 2007,
    "price": {"amount_minor": 1099, "currency": "GBP"},
}


async def test_the_seed_catalogue_pages_through_without_gaps_or_repeats(client: httpx.AsyncClient) -> None:
    """Following next_cursor visits every seeded album once, in stock-keeping-id order."""
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 50} | ({"after": cursor} if cursor else {})
        page = (await client.get("/albums", params=params)).json()
        seen += [album["sku"] for album in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) >= 200
    assert seen == sorted(set(seen))


async def test_filters_narrow_the_list(client: httpx.AsyncClient) -> None:
    """Genre matches exactly in any case; artist and q match part of a name."""
    jazz = (await client.get("/albums", params={"genre": "jazz", "limit": 100})).json()["items"]
    assert jazz and all(a["genre"] == "Jazz" for a in jazz)
    first = jazz[0]
    by_artist = (await client.get("/albums", params={"artist": first["artist"][1:-1].upper()})).json()["items"]
    assert first["sku"] in [a["sku"] for a in by_artist]
    by_text = (await client.get("/albums", params={"q": first["title"].lower()})).json()["items"]
    assert first["sku"] in [a["sku"] for a in by_text]
    nothing = (await client.get("/albums", params={"q": "%_no such album_%"})).json()
    assert nothing == {"items": [], "next_cursor": None}


async def test_an_admin_adds_an_album_and_anyone_reads_it(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """POST creates (201 with Location); GET returns the same album; money stays integer minor units."""
    created = await client.post("/albums", json=NEW_ALBUM, headers=admin)
    assert created.status_code == 201
    assert created.headers["location"] == "/albums/TEST-0001"
    fetched = await client.get("/albums/TEST-0001")
    assert fetched.json() == created.json() == NEW_ALBUM


async def test_the_same_sku_twice_is_a_conflict(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """A second album with a taken stock-keeping id is refused with 409, and the first is unchanged."""
    await client.post("/albums", json=NEW_ALBUM, headers=admin)
    again = await client.post("/albums", json=NEW_ALBUM | {"title": "Other"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["title"] == "Album already exists"
    assert (await client.get("/albums/TEST-0001")).json()["title"] == "In Rainbows"


@pytest.mark.parametrize(
    ("caller", "status"),
    [("nobody", 401), ("garbage", 401), ("basic", 401), ("customer", 403), ("forged", 401)],
)
async def test_writes_need_an_admin_access_token(
    client: httpx.AsyncClient, tokens: TestTokens, caller: str, status: int
) -> None:
    """Without a valid access token granting the admin scope, writes are refused and change nothing."""
    headers = {
        "nobody": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "basic": {"Authorization": "Basic abc"},
        "customer": tokens.bearer("customer-1", "customer"),
        "forged": TestTokens().bearer("admin-1", "admin"),  # signed by a key the issuer never published
    }[caller]
    response = await client.post("/albums", json=NEW_ALBUM, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/albums/TEST-0001")).status_code == 404


async def test_changing_the_price(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """An admin changes a price; a change of currency is refused with the reason."""
    await client.post("/albums", json=NEW_ALBUM, headers=admin)
    changed = await client.put(
        "/albums/TEST-0001/price", json={"price": {"amount_minor": 899, "currency": "GBP"}}, headers=admin
    )
    assert changed.json()["price"] == {"amount_minor": 899, "currency": "GBP"}
    refused = await client.put(
        "/albums/TEST-0001/price", json={"price": {"amount_minor": 899, "currency": "EUR"}}, headers=admin
    )
    assert refused.status_code == 422
    assert "priced in GBP" in refused.json()["detail"]
    assert (await client.get("/albums/TEST-0001")).json()["price"]["amount_minor"] == 899


async def test_correcting_the_details(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """PUT replaces the descriptive fields and keeps the price."""
    await client.post("/albums", json=NEW_ALBUM, headers=admin)
    details = {"title": "In Rainbows (Disk 2)", "artist": "Radiohead", "genre": "Rock", "released": 2007}
    updated = await client.put("/albums/TEST-0001", json=details, headers=admin)
    assert updated.json() == details | {"sku": "TEST-0001", "price": NEW_ALBUM["price"]}


async def test_an_unknown_album_is_a_404_problem(client: httpx.AsyncClient) -> None:
    """A stock-keeping id nobody has is answered with a problem that names it."""
    response = await client.get("/albums/NOPE-404")
    assert response.status_code == 404
    assert "NOPE-404" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": {"amount_minor": 10.5, "currency": "GBP"}}, "body.price.amount_minor"),
        ({"price": {"amount_minor": "ten", "currency": "GBP"}}, "body.price.amount_minor"),
        ({"price": {"amount_minor": -1, "currency": "GBP"}}, "body.price.amount_minor"),
        ({"price": {"amount_minor": 100, "currency": "pounds"}}, "body.price.currency"),
        ({"price": {"amount_minor": 100}}, "body.price.currency"),
        ({"price": {"amount_minor": 100, "currency": "GBP"}, "extra": 1}, "body.extra"),
    ],
)
async def test_a_malformed_price_names_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], change: dict[str, object], field: str
) -> None:
    """Floats, strings, negatives and unknown fields are 422 problems naming the field, never a 500."""
    response = await client.put("/albums/ALB-00001/price", json=change, headers=admin)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "query.limit"), ({"limit": "all"}, "query.limit"), ({"after": "not a sku"}, "query.after")],
)
async def test_bad_query_parameters_name_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    """Paging parameters out of range or of the wrong type are 422 problems naming them."""
    response = await client.get("/albums", params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_a_price_change_publishes_price_changed_once(
    client: httpx.AsyncClient, admin: dict[str, str], broker_url: str
) -> None:
    """The change and its PriceChanged event commit together; the relay puts the event on CATALOG_EVENTS."""
    await client.post("/albums", json=NEW_ALBUM, headers=admin)
    changed = await client.put(
        "/albums/TEST-0001/price", json={"price": {"amount_minor": 799, "currency": "GBP"}}, headers=admin
    )
    again = await client.put(
        "/albums/TEST-0001/price", json={"price": {"amount_minor": 799, "currency": "GBP"}}, headers=admin
    )
    assert again.status_code == 200  # the same price again: no change, so no event
    requests = {changed.headers["x-correlation-id"], again.headers["x-correlation-id"]}

    async def published() -> list[Envelope]:
        return await BrokerProbe(broker_url).messages_in("CATALOG_EVENTS", correlation_ids=requests)

    events = await eventually(published)
    await asyncio.sleep(0.3)  # time for a wrong second event to show up
    [event] = await published()
    assert event.type == "catalog.PriceChanged" and event.correlation_id == changed.headers["x-correlation-id"]
    assert event.data["old_price"] == {"amount_minor": 1099, "currency": "GBP"}
    assert event.data["new_price"] == {"amount_minor": 799, "currency": "GBP"}
    assert events == [event]
