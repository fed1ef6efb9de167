from __future__ import annotations

import time

import httpx

from .edges import overlapping
from .musiccorp import MusicCorp


async def test_the_account_page_gathers_profile_addresses_points_and_orders(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """One response with every part available, each asked of its service with Ann's own token."""
    response = await client.get("/api/account", headers=ann)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["profile"] == {
        "status": "available",
        "data": {"display_name": "Ann Smith", "email": "ann@example.com", "registered_at": "2026-11-02T10:00:00Z"},
    }
    assert [address["id"] for address in page["addresses"]["data"]] == ["adr_home"]
    assert page["points"]["data"]["balance"] == 12
    assert page["points"]["data"]["recent"][0]["kind"] == "award"
    assert page["recent_orders"] == {"status": "available", "data": []}
    calls = musiccorp.customer.seen + musiccorp.loyalty.seen + musiccorp.order.seen
    assert {seen.request.url.path for seen in calls} == {"/me/profile", "/me/addresses", "/me/points", "/orders"}
    assert {seen.request.headers["authorization"] for seen in calls} == {ann["Authorization"]}


async def test_a_customer_without_a_profile_yet_gets_an_empty_account_page(
    client: httpx.AsyncClient, bob: dict[str, str]
) -> None:
    """customer's 404 for a profile not made yet is no failure: the profile part is null."""
    page = (await client.get("/api/account", headers=bob)).json()
    assert page["profile"] == {"status": "available", "data": None}
    assert page["addresses"] == {"status": "available", "data": []}
    assert page["points"]["data"] == {"balance": 0, "recent": []}


async def test_the_parts_are_asked_for_at_once(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """Four calls to three services each taking 0.3 s overlap: the page takes about 0.3 s, not 1.2 s."""
    musiccorp.customer.delay = musiccorp.loyalty.delay = musiccorp.order.delay = 0.3
    started = time.monotonic()
    response = await client.get("/api/account", headers=ann)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    calls = musiccorp.customer.seen + musiccorp.loyalty.seen + musiccorp.order.seen
    assert len(calls) == 4
    assert overlapping(*calls)
    assert elapsed < 0.9


async def test_loyalty_down_leaves_only_the_points_unavailable(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """A part whose service is down is reported unavailable in its place; the page is not a 500."""
    musiccorp.loyalty.down = True
    response = await client.get("/api/account", headers=ann)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["points"] == {"status": "unavailable", "service": "loyalty", "reason": "loyalty cannot be reached"}
    assert page["profile"]["status"] == page["addresses"]["status"] == page["recent_orders"]["status"] == "available"


async def test_a_slow_loyalty_is_waited_for_only_until_the_optional_deadline(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """Points taking 5 s are given up on after 0.8 s; the rest of the page comes then."""
    musiccorp.loyalty.delay = 5.0
    started = time.monotonic()
    page = (await client.get("/api/account", headers=ann)).json()
    assert time.monotonic() - started < 3.0
    assert page["points"]["reason"] == "loyalty did not answer within 0.8 s"


async def test_every_part_can_fail_on_its_own(
    client: httpx.AsyncClient, musiccorp: MusicCorp, ann: dict[str, str]
) -> None:
    """With customer failing, loyalty refusing and order down, each part says so and the page still answers."""
    musiccorp.customer.failing_with, musiccorp.loyalty.failing_with, musiccorp.order.down = 500, 403, True
    response = await client.get("/api/account", headers=ann)
    assert response.status_code == 200, response.text
    page = response.json()
    assert {name: part["reason"] for name, part in page.items()} == {
        "profile": "customer failed (500)",
        "addresses": "customer failed (500)",
        "points": "loyalty refused the request (403)",
        "recent_orders": "order cannot be reached",
    }


async def test_the_account_page_needs_a_customers_token(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """Without a token the page is a 401 problem, and no service is asked anything."""
    response = await client.get("/api/account")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert musiccorp.customer.seen == musiccorp.loyalty.seen == musiccorp.order.seen == []


async def test_a_new_customer_saves_a_profile_and_an_address(
    client: httpx.AsyncClient, musiccorp: MusicCorp, bob: dict[str, str]
) -> None:
    """The profile is created (201), then updated (200), and an address added, all at customer with Bob's token."""
    details = {"display_name": "Bob Jones", "email": "bob@example.com"}
    created = await client.put("/api/account/profile", json=details, headers=bob)
    updated = await client.put("/api/account/profile", json=details | {"display_name": "Bob"}, headers=bob)
    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.json()["display_name"] == "Bob"
    address = {"name": "Bob Jones", "lines": ["2 Low Road"], "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}
    added = await client.post("/api/account/addresses", json=address, headers=bob)
    assert added.status_code == 201, added.text
    assert added.json() | {"id": None} == address | {"id": None}
    assert musiccorp.customer.seen[-1].json == address
    assert {seen.request.headers["authorization"] for seen in musiccorp.customer.seen} == {bob["Authorization"]}
    page = (await client.get("/api/account", headers=bob)).json()
    assert page["profile"]["data"]["display_name"] == "Bob"
    assert [a["id"] for a in page["addresses"]["data"]] == [added.json()["id"]]
