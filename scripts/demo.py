"""`make demo`: a handful of customers shop through the storefront's backend of a running `paved up`.

Each signs up, signs in, adds a delivery address, browses, prices a basket and checks out; the script then
follows every order until it is dispatched or rejected and prints what happened, step by step.
Run `make run` in another terminal first.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000002"
# (name, album, card): two that go through, a card the provider declines, an album the warehouse has none of.
SHOPPERS = [
    ("Ann", "ALB-00002", GOOD_CARD),
    ("Bob", "ALB-00003", GOOD_CARD),
    ("Cat", "ALB-00004", DECLINED_CARD),
    ("Dan", "ALB-00010", GOOD_CARD),
]
console = Console()


def bff_url() -> str:
    try:
        run = json.loads((ROOT / ".paved" / "run.json").read_text())
        return f"{run['services']['web-bff']['url']}/api"
    except (OSError, KeyError, ValueError):
        sys.exit("the shop is not running here: start it with `make run` in another terminal, then `make demo`")


def shop(bff: httpx.Client, name: str, sku: str, card: str) -> tuple[str, str]:
    """One customer's visit, up to a placed order; returns (customer's token header value, order id)."""
    email, password = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com", "correct horse battery staple"
    bff.post("/register", json={"email": email, "password": password}).raise_for_status()
    tokens = bff.post("/sign-in", json={"email": email, "password": password}).raise_for_status().json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    bff.put("/account/profile", json={"display_name": name, "email": email}, headers=headers).raise_for_status()
    address = {"name": name, "lines": ["1 Music Street"], "city": "London", "postcode": "N1 9GU", "country": "GB"}
    address_id = bff.post("/account/addresses", json=address, headers=headers).raise_for_status().json()["id"]
    grid = bff.get("/browse").raise_for_status().json()["items"]  # what the storefront's grid shows
    assert grid, "the catalog is empty"
    basket = {"lines": [{"sku": sku, "quantity": 1}]}
    priced = bff.post("/basket/price", json=basket).raise_for_status().json()
    console.print(
        f"{name} signs up, browses and puts {priced['lines'][0]['title']} in the basket "
        f"({priced['total']['amount_minor'] / 100:.2f} {priced['total']['currency']})",
        highlight=False,
    )
    checkout = basket | {"delivery_address_id": address_id, "card_number": card}
    order = bff.post("/checkout", json=checkout, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    return headers["Authorization"], order.raise_for_status().json()["id"]


def main() -> None:
    with httpx.Client(base_url=bff_url(), timeout=15) as bff:
        placed = [(name, *shop(bff, name, sku, card)) for name, sku, card in SHOPPERS]
        deadline = time.monotonic() + 90
        final: dict[str, dict] = {}
        while len(final) < len(placed) and time.monotonic() < deadline:
            for name, token, order_id in placed:
                order = bff.get(f"/orders/{order_id}", headers={"Authorization": token}).raise_for_status().json()
                if order["status"] in {"dispatched", "rejected", "cancelled"}:
                    final[name] = order
            time.sleep(0.5)
    table = Table(title="what happened to each order")
    for column in ("customer", "status", "what happened", "last note"):
        table.add_column(column)
    for name, _, order_id in placed:
        order = final.get(name, {"status": f"still in progress ({order_id})", "history": []})
        history = order.get("history", [])
        steps = " → ".join(step["event"] for step in history)
        table.add_row(name, order["status"], steps, next((s["reason"] for s in reversed(history) if s["reason"]), ""))
    console.print(table)
    console.print("Look closer: `paved logs order`, `paved streams`, and the emails at the notification service.")


if __name__ == "__main__":
    main()
