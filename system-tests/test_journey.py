"""The customer's journey through the storefront's backend (web-bff), against `paved up` with every service.

Real processes, real NATS, real SQLite databases, real tokens: sign up, sign in, browse, price a basket,
check out, and watch the order go from placed to dispatched; and the ways it must not go wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conftest import (
    DECLINED_CARD,
    DEV_ADMIN,
    GOOD_CARD,
    IN_STOCK,
    PASSWORD,
    SOLD_OUT,
    Customer,
    PavedUp,
    eventually,
    whole_shop,
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(tmp_path_factory.mktemp("journey") / "state") as shop:
        yield shop


@pytest.fixture(scope="module")
def bff(shop: PavedUp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=15) as client:
        yield client


def test_a_customer_browses_checks_out_and_the_order_is_dispatched(bff: httpx.Client) -> None:
    """Sign up to dispatch through the BFF: the order goes placed → … → dispatched and points are awarded."""
    ann = Customer(bff, "ann")
    page = bff.get("/browse")
    assert page.status_code == 200 and page.json()["items"], page.text
    priced = bff.post("/basket/price", json={"lines": [{"sku": IN_STOCK, "quantity": 1}]})
    assert priced.status_code == 200 and priced.json()["total"]["amount_minor"] > 0, priced.text
    placed = ann.check_out(IN_STOCK)
    assert placed.status_code == 201, placed.text
    order = ann.settled(placed.json()["id"])
    assert order["status"] == "dispatched", order
    account = eventually(
        lambda: (a := bff.get("/account", headers=ann.headers).json())["points"].get("data", {}).get("balance") and a
    )
    assert account, bff.get("/account", headers=ann.headers).text


def test_a_duplicate_checkout_with_the_same_key_places_one_order(bff: httpx.Client) -> None:
    """The same Idempotency-Key twice (a retried click) gives the same order, and only one."""
    bob = Customer(bff, "bob")
    first = bob.check_out(IN_STOCK, key="checkout-1")
    again = bob.check_out(IN_STOCK, key="checkout-1")
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert first.json()["id"] == again.json()["id"]
    orders = bff.get("/orders", headers=bob.headers).json()
    assert [o["id"] for o in orders["items"]] == [first.json()["id"]]


def test_a_declined_card_rejects_the_order(bff: httpx.Client) -> None:
    """The provider declines the card: the order is rejected (its stock released), nothing is dispatched."""
    cat = Customer(bff, "cat")
    placed = cat.check_out(IN_STOCK, card=DECLINED_CARD)
    assert placed.status_code == 201, placed.text
    assert cat.settled(placed.json()["id"])["status"] == "rejected"


def test_an_out_of_stock_item_rejects_the_order(bff: httpx.Client) -> None:
    """An album the warehouse has none of: the order is rejected, and the card is never charged."""
    dan = Customer(bff, "dan")
    placed = dan.check_out(SOLD_OUT)
    assert placed.status_code == 201, placed.text
    order = dan.settled(placed.json()["id"])
    assert order["status"] == "rejected", order


def test_a_customer_cannot_read_another_customers_order(bff: httpx.Client) -> None:
    """Eve asks for Ann's order by its id: refused as if it did not exist."""
    ann, eve = Customer(bff, "ann"), Customer(bff, "eve")
    placed = ann.check_out(IN_STOCK)
    assert placed.status_code == 201, placed.text
    answer = bff.get(f"/orders/{placed.json()['id']}", headers=eve.headers)
    assert answer.status_code in {403, 404}, answer.text
    assert placed.json()["id"] not in answer.text or answer.status_code == 404


def test_every_service_is_ready(shop: PavedUp) -> None:
    """paved up started every service of the shop, each ready (database and broker answering)."""
    names = set(shop.run_info()["services"])
    assert {
        "identity",
        "catalog",
        "customer",
        "order",
        "payment",
        "warehouse",
        "loyalty",
        "notification",
        "web-bff",
    } <= names
    for name in names:
        with shop.client(name) as probe:
            assert probe.get("/health/ready").status_code == 200, name


def test_no_secret_reaches_any_log(shop: PavedUp, bff: httpx.Client) -> None:
    """Card numbers, passwords, access tokens and the services' client secrets: after a journey that used each,
    none is in any log of the shop (every service's, Envoy's, NATS's), nor anything that looks like a JWT."""
    eve = Customer(bff, "Eve")
    placed = eve.check_out(IN_STOCK)
    assert placed.status_code == 201, placed.text
    assert eve.settled(placed.json()["id"])["status"] == "dispatched"
    declined = eve.check_out(IN_STOCK, card=DECLINED_CARD)
    assert eve.settled(declined.json()["id"])["status"] == "rejected"
    admin = shop.admin_headers()
    secrets = {
        "a card number": GOOD_CARD,
        "a declined card number": DECLINED_CARD,
        "a customer's password": PASSWORD,
        "the admin's password": DEV_ADMIN[1],
        "a customer's access token": eve.headers["Authorization"].removeprefix("Bearer "),
        "the admin's access token": admin["Authorization"].removeprefix("Bearer "),
        "a JWT": "eyJ",  # every JWT's header starts so (base64 of '{"')
    }
    secrets |= {f"{path.name}'s secret": path.read_text().strip() for path in (shop.state / "secrets").iterdir()}
    logs = sorted((shop.state / "logs").iterdir())
    assert len(logs) >= 10
    leaks = [
        f"{what} in {log.name}"
        for log in logs
        for what, secret in secrets.items()
        if secret and secret in log.read_text(errors="replace")
    ]
    assert leaks == []
