"""One customer reaching another's orders, addresses, points, payments or messages, through every API of the
running shop: directly at each service (called as the workload that may call it, so the token is what is
checked) and through the storefront's web-bff. Each is refused, and the owner's own call, the same one,
is answered, so a refusal is the check at work and not a broken route.

A service that acts for a customer acts with the customer's own token (docs/zero-trust.md, "No confused
deputy"): order reads the delivery address as the customer, so Bob's order cannot copy Ann's address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from conftest import IN_STOCK, Customer, PavedUp, eventually, whole_shop


@dataclass(frozen=True)
class Anns:
    """What the shop holds of Ann's, and her own and Bob's bearer headers."""

    ann: dict[str, str]
    bob: dict[str, str]
    bob_address_id: str
    order_id: str
    address_id: str
    message_id: str
    customer_id: str


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(tmp_path_factory.mktemp("deputy") / "state") as shop:
        yield shop


ANNS_STREET = "7 Hidden Lane"  # in no one else's address


@pytest.fixture(scope="module")
def anns(shop: PavedUp) -> Anns:
    """Ann buys an album and it is dispatched: she has an order, an address, points, a payment and messages."""
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=30) as bff:
        ann, bob = Customer(bff, "ann"), Customer(bff, "bob")
        address = {"name": "Ann", "lines": [ANNS_STREET], "city": "York", "postcode": "YO1 7HH", "country": "GB"}
        added = bff.post("/account/addresses", json=address, headers=ann.headers)
        assert added.status_code == 201, added.text
        ann.address_id = added.json()["id"]
        placed = ann.check_out(IN_STOCK)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        assert ann.settled(order_id)["status"] == "dispatched"
    with shop.client("loyalty", as_="web-bff") as loyalty:
        points = eventually(lambda: (p := loyalty.get("/me/points", headers=ann.headers).json())["balance"] and p)
    assert points, "Ann's points never arrived"
    with shop.client("notification", as_="web-bff") as notification:
        messages = eventually(lambda: notification.get("/me/messages", headers=ann.headers).json()["items"])
    assert messages, "Ann was never written to"
    return Anns(
        ann=ann.headers,
        bob=bob.headers,
        bob_address_id=bob.address_id,
        order_id=order_id,
        address_id=ann.address_id,
        message_id=messages[0]["id"],
        customer_id=points["customer_id"],
    )


# (service, method, path): a customer's own data, for whoever's token it is. Ann's answer is a 2xx; Bob's a
# 404, as for something that does not exist (an id of someone else's tells him nothing).
OWN = [
    ("order", "GET", "/orders/{order_id}"),
    ("order", "GET", "/orders/{order_id}/history"),
    ("customer", "GET", "/me/addresses/{address_id}"),
    ("customer", "PUT", "/me/addresses/{address_id}"),
    ("payment", "GET", "/me/payments/{order_id}"),
]
# Anyone's data, for an admin only: every customer's token is a 403, whoever it belongs to.
ADMINS = [
    ("loyalty", "GET", "/customers/{customer_id}/points"),
    ("payment", "GET", "/payments/{order_id}"),
    ("notification", "GET", "/messages/{message_id}"),
    ("notification", "GET", "/messages"),
]
NEW_ADDRESS = {"name": "Bob", "lines": ["2 Other Road"], "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}


def call(client: httpx.Client, method: str, path: str, anns: Anns, headers: dict[str, str]) -> httpx.Response:
    url = path.format(**vars(anns))
    return client.request(method, url, headers=headers, json=NEW_ADDRESS if method == "PUT" else None)


def shows_nothing_of_anns(response: httpx.Response, anns: Anns) -> bool:
    """Not her street, and no customer id but one the request itself named (a refusal may repeat its path)."""
    asked = str(response.request.url)
    return ANNS_STREET not in response.text and (anns.customer_id in asked or anns.customer_id not in response.text)


def is_a_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


@pytest.mark.parametrize(("service", "method", "path"), OWN, ids=[f"{s} {m} {p}" for s, m, p in OWN])
def test_a_customers_own_data_is_theirs_alone_at_every_service(
    shop: PavedUp, anns: Anns, service: str, method: str, path: str
) -> None:
    with shop.client(service, as_="web-bff") as client:
        bobs = call(client, method, path, anns, anns.bob)
        assert bobs.status_code == 404, bobs.text
        assert is_a_problem(bobs) and shows_nothing_of_anns(bobs, anns)
        if method == "GET":
            assert call(client, method, path, anns, anns.ann).status_code == 200


@pytest.mark.parametrize(("service", "method", "path"), ADMINS, ids=[f"{s} {m} {p}" for s, m, p in ADMINS])
@pytest.mark.parametrize("workload", ["web-bff", "operator"])
def test_anyones_data_is_for_admins_only(
    shop: PavedUp, anns: Anns, service: str, method: str, path: str, workload: str
) -> None:
    """A customer's token reads no one's data on an admin's route, from whichever workload it is sent (the
    operator's tools included); an admin's does."""
    with shop.client(service, as_=workload) as client:
        for headers in (anns.bob, anns.ann):
            refused = call(client, method, path, anns, headers)
            assert refused.status_code == 403, refused.text
            assert is_a_problem(refused) and shows_nothing_of_anns(refused, anns)
    with shop.client(service) as operator:
        assert call(operator, method, path, anns, shop.admin_headers()).status_code == 200


def test_lists_of_a_customers_data_hold_only_theirs(shop: PavedUp, anns: Anns) -> None:
    """Bob's orders, addresses, points and messages, at each service: nothing of Ann's is in any of them."""
    lists = [
        ("order", "/orders"),
        ("customer", "/me/addresses"),
        ("loyalty", "/me/points"),
        ("notification", "/me/messages"),
    ]
    for service, path in lists:
        with shop.client(service, as_="web-bff") as client:
            bobs, hers = client.get(path, headers=anns.bob), client.get(path, headers=anns.ann)
        assert bobs.status_code == 200 and hers.status_code == 200, (service, bobs.text, hers.text)
        assert anns.order_id not in bobs.text and shows_nothing_of_anns(bobs, anns), service
        assert anns.order_id in hers.text or ANNS_STREET in hers.text or anns.customer_id in hers.text, service


def test_an_order_cannot_be_sent_to_another_customers_address(shop: PavedUp, anns: Anns) -> None:
    """Order reads the address as the customer who places the order (their token, sent on): to Bob, Ann's
    address does not exist, at order and through the storefront. His own address still works."""
    line = {"sku": IN_STOCK, "quantity": 1}
    order = {"lines": [line], "delivery_address_id": anns.address_id, "payment": {"card_number": "4242424242424242"}}
    with shop.client("order", as_="web-bff") as client:
        direct = client.post("/orders", json=order, headers=anns.bob | {"Idempotency-Key": "bob-takes-anns-address"})
    assert direct.status_code == 422, direct.text
    assert direct.json()["errors"][0]["field"] == "body.delivery_address_id"
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=30) as bff:
        checkout = {"lines": [line], "delivery_address_id": anns.address_id, "card_number": "4242424242424242"}
        through = bff.post("/checkout", json=checkout, headers=anns.bob | {"Idempotency-Key": "bob-via-the-bff"})
        assert through.status_code == 422, through.text
        assert ANNS_STREET not in through.text
        own = checkout | {"delivery_address_id": anns.bob_address_id}
        assert bff.post("/checkout", json=own, headers=anns.bob | {"Idempotency-Key": "bob-own"}).status_code == 201


def test_the_customer_service_serves_order_only_the_customers_own_address(shop: PavedUp, anns: Anns) -> None:
    """Called as order, the customer service answers an address to its owner's token alone; order holds no
    token of its own that reads addresses (it has no client at identity any more)."""
    path = f"/me/addresses/{anns.address_id}"
    with shop.client("customer", as_="order") as customer:
        assert customer.get(path, headers=anns.bob).status_code == 404
        assert customer.get(path, headers=anns.ann).status_code == 200
        assert customer.get(path).status_code == 401
        assert customer.get(f"/customers/{anns.customer_id}/addresses/{anns.address_id}").status_code in (401, 404)
    assert not (shop.state / "secrets" / "client-order").exists()


def test_through_the_storefront_one_customer_reaches_nothing_of_anothers(shop: PavedUp, anns: Anns) -> None:
    """Ann's order page and its cancel, and Bob's account page, at web-bff: nothing of Ann's for Bob."""
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=30) as bff:
        for method, path in (("GET", f"/orders/{anns.order_id}"), ("POST", f"/orders/{anns.order_id}/cancel")):
            bobs = bff.request(method, path, headers=anns.bob)
            assert bobs.status_code == 404, bobs.text
            assert shows_nothing_of_anns(bobs, anns)
        assert bff.get(f"/orders/{anns.order_id}", headers=anns.ann).status_code == 200
        account = bff.get("/account", headers=anns.bob)
        assert account.status_code == 200, account.text
        assert shows_nothing_of_anns(account, anns) and anns.order_id not in account.text
        bobs_orders = bff.get("/orders", headers=anns.bob)
        assert bobs_orders.status_code == 200 and anns.order_id not in bobs_orders.text
