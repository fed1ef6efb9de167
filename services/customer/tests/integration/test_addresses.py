from __future__ import annotations

import asyncio

import httpx
import pytest
from paved import Envelope
from paved.testing import BrokerProbe, TestTokens, eventually

from customer.domain import MAX_ADDRESSES

HOME = {
    "name": "Ann Smith",
    "lines": ["Flat 2", "10 Downing Street"],
    "city": "London",
    "postcode": "SW1A 2AA",
    "country": "GB",
}
WORK = {"name": "Ann Smith", "lines": ["1 Canada Square"], "city": "London", "postcode": "E14 5AB", "country": "GB"}


@pytest.fixture
async def registered(client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str]) -> None:
    """Ann and Bob have profiles."""
    for headers, name in ((ann, "ann"), (bob, "bob")):
        contact = {"display_name": name, "email": f"{name}@example.com"}
        response = await client.put("/me/profile", json=contact, headers=headers)
        assert response.status_code == 201


async def test_addresses_need_a_profile_first(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """Without a profile, adding an address is a 409 problem that says what to do; listing is empty."""
    response = await client.post("/me/addresses", json=HOME, headers=ann)
    assert response.status_code == 409
    assert "PUT /me/profile" in response.json()["detail"]
    assert (await client.get("/me/addresses", headers=ann)).json() == {"items": []}


@pytest.mark.usefixtures("registered")
async def test_an_address_is_added_read_changed_and_removed(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """POST (201, Location), GET one and all, PUT (same id), DELETE (204), then it is gone (404)."""
    added = await client.post("/me/addresses", json=HOME, headers=ann)
    assert added.status_code == 201, added.text
    address = added.json()
    assert added.headers["location"] == f"/me/addresses/{address['id']}"
    assert address | {"id": "", "added_at": "", "updated_at": ""} == HOME | {"id": "", "added_at": "", "updated_at": ""}
    assert (await client.get(added.headers["location"], headers=ann)).json() == address
    assert (await client.get("/me/addresses", headers=ann)).json() == {"items": [address]}

    changed = await client.put(added.headers["location"], json=WORK, headers=ann)
    assert changed.status_code == 200
    assert changed.json()["id"] == address["id"] and changed.json()["lines"] == WORK["lines"]
    assert changed.json()["added_at"] == address["added_at"]

    assert (await client.delete(added.headers["location"], headers=ann)).status_code == 204
    gone = await client.get(added.headers["location"], headers=ann)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert (await client.delete(added.headers["location"], headers=ann)).status_code == 404


@pytest.mark.usefixtures("registered")
async def test_another_customers_address_is_a_404_and_stays_as_it_was(
    client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str]
) -> None:
    """Bob, given Ann's address id, can neither read, change nor remove it: each is a 404 telling nothing."""
    location = (await client.post("/me/addresses", json=HOME, headers=ann)).headers["location"]
    for response in (
        await client.get(location, headers=bob),
        await client.put(location, json=WORK, headers=bob),
        await client.delete(location, headers=bob),
    ):
        assert response.status_code == 404
        assert "Ann" not in response.text and "Downing" not in response.text
    assert (await client.get("/me/addresses", headers=bob)).json() == {"items": []}
    assert (await client.get(location, headers=ann)).json()["lines"] == HOME["lines"]


@pytest.mark.parametrize("scopes", [("customer",), ("customers:read",), ("admin",)])
@pytest.mark.usefixtures("registered")
async def test_no_services_own_token_reads_a_customers_address(
    client: httpx.AsyncClient, ann: dict[str, str], tokens: TestTokens, scopes: tuple[str, ...]
) -> None:
    """A service acting as itself, whatever its scopes, reads no one's address: a service reads one only
    with the customer's own token, sent on (the order service's confused deputy, closed)."""
    address = (await client.post("/me/addresses", json=HOME, headers=ann)).json()
    as_order = tokens.bearer("order", *scopes, client=True)
    assert (await client.get(f"/me/addresses/{address['id']}", headers=as_order)).status_code == 403
    assert (await client.get(f"/customers/acc_ann/addresses/{address['id']}", headers=as_order)).status_code == 404
    assert (await client.get(f"/me/addresses/{address['id']}", headers=ann)).json() == address


@pytest.mark.usefixtures("registered")
async def test_concurrent_adds_stop_at_the_limit(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """With room for two more, six adds at once keep exactly two; the other four are 409 problems."""
    for _ in range(MAX_ADDRESSES - 2):
        assert (await client.post("/me/addresses", json=HOME, headers=ann)).status_code == 201
    responses = await asyncio.gather(*(client.post("/me/addresses", json=WORK, headers=ann) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [201] * 2 + [409] * 4
    assert len((await client.get("/me/addresses", headers=ann)).json()["items"]) == MAX_ADDRESSES


@pytest.mark.usefixtures("registered")
async def test_adding_an_address_publishes_address_added(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str
) -> None:
    """AddressAdded reaches CUSTOMER_EVENTS with the address's id and country, and not its street."""
    added = await client.post("/me/addresses", json=HOME, headers=ann)
    changed = await client.put(added.headers["location"], json=WORK, headers=ann)
    requests = {added.headers["x-correlation-id"], changed.headers["x-correlation-id"]}

    async def published() -> list[Envelope]:
        return await BrokerProbe(broker_url).messages_in("CUSTOMER_EVENTS", correlation_ids=requests)

    [event] = await eventually(published)
    await asyncio.sleep(0.3)  # time for a wrong second event to show up
    assert await published() == [event]
    assert event.type == "customer.AddressAdded" and event.version == 1
    assert event.data == {
        "customer_id": "acc_ann",
        "address_id": added.json()["id"],
        "country": "GB",
        "added_at": added.json()["added_at"],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "UK"}, "body.country"),
        ({"country": "gb"}, "body.country"),
        ({"lines": []}, "body.lines"),
        ({"lines": ["a", "b", "c", "d", "e"]}, "body.lines"),
        ({"lines": ["Flat 2", "   "]}, "body.lines.1"),
        ({"postcode": "x" * 17}, "body.postcode"),
        ({"name": 42}, "body.name"),
        ({"extra": 1}, "body.extra"),
    ],
)
@pytest.mark.usefixtures("registered")
async def test_a_malformed_address_names_the_field(
    client: httpx.AsyncClient, ann: dict[str, str], change: dict[str, object], field: str
) -> None:
    """Unknown countries, too few or many lines, blanks and unknown fields are 422 problems naming the field."""
    response = await client.post("/me/addresses", json=HOME | change, headers=ann)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "Ann", "email": "not an email"}, "body.email"),
        ({"display_name": "", "email": "ann@example.com"}, "body.display_name"),
        ({"email": "ann@example.com"}, "body.display_name"),
    ],
)
async def test_a_malformed_profile_names_the_field(
    client: httpx.AsyncClient, ann: dict[str, str], body: dict[str, object], field: str
) -> None:
    """A profile with an unusable email or no name is a 422 problem naming the field."""
    response = await client.put("/me/profile", json=body, headers=ann)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_a_malformed_address_id_names_the_path_parameter(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """An id that cannot be an address id is a 422 naming it, before any lookup."""
    response = await client.get("/me/addresses/'; drop table addresses", headers=ann)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.address_id"
