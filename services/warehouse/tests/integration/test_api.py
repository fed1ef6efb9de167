from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from paved import new_id
from paved.testing import BrokerProbe, eventually

from .clock import ManualClock
from .conftest import TOKENS

# From the opening stock (migration 0002): ALB-00001 has 10, ALB-00005 its last copy, ALB-00010 none.
PLENTY, LAST_COPY, SOLD_OUT = "ALB-00001", "ALB-00005", "ALB-00010"


def reservation(order_id: str = "o-1", ttl_seconds: int = 900, **quantities: int) -> dict[str, Any]:
    lines = [{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in quantities.items()] or [
        {"sku": PLENTY, "quantity": 2}
    ]
    return {"order_id": order_id, "lines": lines, "ttl_seconds": ttl_seconds}


async def available(client: httpx.AsyncClient, sku: str) -> int:
    response = await client.get(f"/stock/{sku}")
    assert response.status_code == 200, response.text
    return int(response.json()["available"])


async def account(client: httpx.AsyncClient, admin: dict[str, str], sku: str) -> dict[str, int]:
    response = await client.get(f"/stock/{sku}/account", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["title"] == title
    return body


async def test_the_opening_stock_is_on_the_shelf(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """The seeded SKUs show their opening quantities, some sold out; a SKU never received has none."""
    assert await available(client, PLENTY) == 10
    assert await available(client, LAST_COPY) == 1
    assert await available(client, SOLD_OUT) == 0
    assert await available(client, "NEW-00001") == 0
    assert await account(client, admin, PLENTY) == {
        "sku": PLENTY,
        "received": 10,
        "on_hand": 10,
        "available": 10,
        "reserved": 0,
        "dispatched": 0,
    }


async def test_several_skus_are_read_at_once_in_the_order_asked(client: httpx.AsyncClient) -> None:
    """GET /stock?sku=… answers each SKU once, in the order asked, unknown ones as none available."""
    response = await client.get(
        "/stock", params=[("sku", SOLD_OUT), ("sku", PLENTY), ("sku", "NEW-00001"), ("sku", PLENTY)]
    )
    assert response.json() == {
        "items": [
            {"sku": SOLD_OUT, "available": 0},
            {"sku": PLENTY, "available": 10},
            {"sku": "NEW-00001", "available": 0},
        ]
    }


async def test_a_delivery_is_booked_once_per_receipt(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """PUT books a receipt (201); the same again changes nothing (200); other contents for it are a conflict."""
    url = f"/stock/{SOLD_OUT}/receipts/delivery-77"
    first = await client.put(url, json={"quantity": 4}, headers=admin)
    again = await client.put(url, json={"quantity": 4}, headers=admin)
    assert (first.status_code, again.status_code) == (201, 200)
    assert (
        first.json()
        == again.json()
        == {"sku": SOLD_OUT, "received": 4, "on_hand": 4, "available": 4, "reserved": 0, "dispatched": 0}
    )
    conflict = await client.put(url, json={"quantity": 5}, headers=admin)
    assert "delivery-77" in assert_problem(conflict, 409, "Receipt already booked")["detail"]
    elsewhere = await client.put(f"/stock/{PLENTY}/receipts/delivery-77", json={"quantity": 4}, headers=admin)
    assert_problem(elsewhere, 409, "Receipt already booked")
    assert (await available(client, SOLD_OUT), await available(client, PLENTY)) == (4, 10)


async def test_a_sku_the_warehouse_never_had_can_be_received(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """The first delivery of a new SKU opens its stock record."""
    response = await client.put("/stock/NEW-00001/receipts/r-1", json={"quantity": 3}, headers=admin)
    assert response.status_code == 201
    assert await available(client, "NEW-00001") == 3


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", f"/stock/{PLENTY}/receipts/r-1", {"quantity": 1}),
        ("GET", f"/stock/{PLENTY}/account", None),
        ("POST", "/reservations", reservation()),
        ("GET", "/reservations/o-1", None),
        ("POST", "/reservations/o-1/release", None),
        ("POST", "/reservations/o-1/pick", None),
        ("POST", "/reservations/o-1/dispatch", None),
    ],
)
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), (TOKENS.bearer("customer-1", "customer"), 403)],
    ids=["none", "garbage", "customer"],
)
async def test_staff_endpoints_need_an_admin_access_token(
    client: httpx.AsyncClient, method: str, url: str, body: object, headers: dict[str, str], status: int
) -> None:
    """Without an access token granting the admin scope, stock and reservations are neither changed nor shown."""
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await available(client, PLENTY) == 10


async def test_a_reservation_holds_stock_once_per_order(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """POST holds the lines (201, Location); the same order again returns it unchanged (200) and holds no more."""
    created = await client.post("/reservations", json=reservation(ALB_00001=2, ALB_00002=1), headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/reservations/o-1"
    body = created.json()
    assert body["status"] == "held"
    assert body["lines"] == [{"sku": "ALB-00001", "quantity": 2}, {"sku": "ALB-00002", "quantity": 1}]
    again = await client.post("/reservations", json=reservation(ALB_00002=1, ALB_00001=2), headers=admin)
    assert again.status_code == 200
    assert again.json() == body
    assert (await client.get("/reservations/o-1", headers=admin)).json() == body
    assert await account(client, admin, PLENTY) == {
        "sku": PLENTY,
        "received": 10,
        "on_hand": 10,
        "available": 8,
        "reserved": 2,
        "dispatched": 0,
    }


async def test_the_same_order_with_other_lines_is_a_conflict(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """An order's reservation cannot be changed by asking again differently."""
    await client.post("/reservations", json=reservation(ALB_00001=2), headers=admin)
    changed = await client.post("/reservations", json=reservation(ALB_00001=3), headers=admin)
    assert_problem(changed, 409, "Order already reserved with other lines")
    assert await available(client, PLENTY) == 8


async def test_out_of_stock_names_what_is_short_and_holds_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """One short line refuses the whole order with a 409 naming each short SKU; no line is held."""
    refused = await client.post("/reservations", json=reservation(ALB_00001=2, ALB_00005=2, ALB_00010=1), headers=admin)
    detail = assert_problem(refused, 409, "Out of stock")["detail"]
    assert "ALB-00005 is short by 1 (2 asked, 1 available)" in detail
    assert "ALB-00010 is short by 1 (1 asked, 0 available)" in detail
    assert PLENTY not in detail
    assert (await available(client, PLENTY), await available(client, LAST_COPY)) == (10, 1)
    assert (await client.get("/reservations/o-1", headers=admin)).status_code == 404


async def test_releasing_puts_stock_back_once(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Release returns the stock; again changes nothing; a released order is never dispatched."""
    await client.post("/reservations", json=reservation(), headers=admin)
    released = await client.post("/reservations/o-1/release", headers=admin)
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert (await client.post("/reservations/o-1/release", headers=admin)).json() == released.json()
    assert await available(client, PLENTY) == 10
    refused = await client.post("/reservations/o-1/dispatch", headers=admin)
    assert "was released" in assert_problem(refused, 409, "Reservation released")["detail"]
    assert_problem(await client.post("/reservations/o-1/pick", headers=admin), 409, "Reservation released")


async def test_picking_and_dispatching_sends_the_units(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Pick then dispatch moves the units from reserved to dispatched; a dispatched order cannot be released."""
    await client.post("/reservations", json=reservation(), headers=admin)
    picked = await client.post("/reservations/o-1/pick", headers=admin)
    assert picked.json()["status"] == "picked" and picked.json()["picked_at"]
    dispatched = await client.post("/reservations/o-1/dispatch", headers=admin)
    assert dispatched.json()["status"] == "dispatched" and dispatched.json()["dispatched_at"]
    assert (await client.post("/reservations/o-1/dispatch", headers=admin)).json() == dispatched.json()
    refused = await client.post("/reservations/o-1/release", headers=admin)
    assert_problem(refused, 409, "Order already dispatched")
    assert await account(client, admin, PLENTY) == {
        "sku": PLENTY,
        "received": 10,
        "on_hand": 8,
        "available": 8,
        "reserved": 0,
        "dispatched": 2,
    }


async def test_a_lapsed_hold_is_let_go_when_its_stock_is_read(
    client: httpx.AsyncClient, admin: dict[str, str], clock: ManualClock
) -> None:
    """Lazy expiry: after the TTL, reading the SKU shows the stock back; the reservation reads as expired."""
    held = (await client.post("/reservations", json=reservation(ALB_00005=1, ttl_seconds=60), headers=admin)).json()
    assert await available(client, LAST_COPY) == 0
    clock.advance(seconds=59)
    assert await available(client, LAST_COPY) == 0
    clock.advance(seconds=1)
    assert await available(client, LAST_COPY) == 1
    expired = (await client.get("/reservations/o-1", headers=admin)).json()
    assert expired["status"] == "expired"
    assert expired["released_at"] == held["expires_at"]
    assert (await account(client, admin, LAST_COPY))["reserved"] == 0


async def test_a_lapsed_hold_is_never_dispatched_unless_picked(
    client: httpx.AsyncClient, admin: dict[str, str], clock: ManualClock
) -> None:
    """Dispatch after the TTL is refused naming the expiry; an order picked in time is dispatched after it."""
    await client.post("/reservations", json=reservation("late", ALB_00001=1, ttl_seconds=60), headers=admin)
    await client.post("/reservations", json=reservation("picked", ALB_00002=1, ttl_seconds=60), headers=admin)
    await client.post("/reservations/picked/pick", headers=admin)
    clock.advance(minutes=5)
    refused = await client.post("/reservations/late/dispatch", headers=admin)
    assert "before it was picked" in assert_problem(refused, 409, "Reservation expired")["detail"]
    assert_problem(await client.post("/reservations/late/pick", headers=admin), 409, "Reservation expired")
    assert (await client.post("/reservations/picked/dispatch", headers=admin)).json()["status"] == "dispatched"
    assert (await client.get("/reservations/late", headers=admin)).json()["status"] == "expired"
    assert await available(client, PLENTY) == 10


async def test_the_last_copy_held_by_a_lapsed_order_goes_to_the_next(
    client: httpx.AsyncClient, admin: dict[str, str], clock: ManualClock
) -> None:
    """A new order gets the last copy once the hold on it lapsed, though nothing read it in between."""
    await client.post("/reservations", json=reservation("abandoned", ALB_00005=1, ttl_seconds=60), headers=admin)
    assert_problem(
        await client.post("/reservations", json=reservation("early", ALB_00005=1), headers=admin), 409, "Out of stock"
    )
    clock.advance(seconds=60)
    taken = await client.post("/reservations", json=reservation("next", ALB_00005=1), headers=admin)
    assert taken.status_code == 201
    assert (await client.get("/reservations/abandoned", headers=admin)).json()["status"] == "expired"


@pytest.mark.parametrize("action", ["", "/release", "/pick", "/dispatch"])
async def test_an_order_never_reserved_is_a_404_problem(
    client: httpx.AsyncClient, admin: dict[str, str], action: str
) -> None:
    """Every reservation endpoint answers an unknown order with a 404 problem naming it."""
    method = "GET" if not action else "POST"
    response = await client.request(method, f"/reservations/nope{action}", headers=admin)
    assert "'nope'" in assert_problem(response, 404, "Reservation not found")["detail"]


async def test_changes_are_announced_on_warehouse_events(
    client: httpx.AsyncClient, admin: dict[str, str], broker: BrokerProbe, clock: ManualClock
) -> None:
    """Each change's event goes out once through the outbox, correlated with its order, caused by its request."""
    order_id = f"o-{new_id()[:12]}"  # the broker outlives each test: this order's events are this test's
    reserved = await client.post("/reservations", json=reservation(order_id, ttl_seconds=60), headers=admin)
    await client.post("/reservations", json=reservation(order_id, ttl_seconds=60), headers=admin)
    clock.advance(seconds=60)
    read = await client.get(f"/stock/{PLENTY}")  # lets the lapsed hold go: the expiry is this request's doing

    async def both_announced() -> list[str]:
        types = [e.type for e in await broker.messages_in("WAREHOUSE_EVENTS", correlation_ids={order_id})]
        return types if len(types) >= 2 else []

    assert await eventually(both_announced) == ["warehouse.StockReserved", "warehouse.StockReleased"]
    await asyncio.sleep(0.3)  # time for a wrong third event (from the repeat) to show up
    events = await broker.messages_in("WAREHOUSE_EVENTS", correlation_ids={order_id})
    assert [e.type for e in events] == ["warehouse.StockReserved", "warehouse.StockReleased"]
    assert events[0].causation_id == reserved.headers["x-request-id"]
    assert events[1].causation_id == read.headers["x-request-id"]
    assert events[1].data["reason"] == "expired"
