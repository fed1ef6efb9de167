"""MusicCorp's services as the BFF sees them: fakes that answer as each service's contract says.

Ann (``acc_ann``) has a profile, an address and points; Bob (``acc_bob``) has nothing yet. Whose data a
request touches comes from its bearer token's subject, as in the real services.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs

import httpx

from .edges import TOKENS, FakeService, problem, subject_of

ANN, BOB = "acc_ann", "acc_bob"
ANN_EMAIL, ANN_PASSWORD = "ann@example.com", "a long enough password"
NOW = "2026-11-02T10:00:00Z"
CATALOGUE = [
    ("ALB-00001", "Blue Train", "John Coltrane", "Jazz", 1299),
    ("ALB-00002", "Kind of Blue", "Miles Davis", "Jazz", 999),
    ("ALB-00003", "Mingus Ah Um", "Charles Mingus", "Jazz", 1099),
    ("ALB-00004", "OK Computer", "Radiohead", "Rock", 1199),
]


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class Identity(FakeService):
    """Accounts, and tokens by the password and refresh_token grants (RFC 6749 errors, not problems)."""

    def __init__(self) -> None:
        super().__init__("identity")
        self.accounts = {ANN_EMAIL: (ANN, ANN_PASSWORD)}
        self.refresh_tokens: dict[str, str] = {}
        self.answer("POST", "/accounts", self.register)
        self.answer("POST", "/oauth/token", self.token)

    def register(self, request: httpx.Request) -> httpx.Response:
        email, password = _body(request)["email"], _body(request)["password"]
        if email in self.accounts:
            return problem(409, "Email address already registered", f"{email} already has an account")
        self.accounts[email] = (f"acc_{uuid.uuid4().hex[:8]}", password)
        return _json(201, {"id": self.accounts[email][0], "email": email, "role": "customer", "created_at": NOW})

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") == "password":
            account = self.accounts.get(form.get("username", ""))
            if account is None or account[1] != form.get("password"):
                return self._refused("the email address and password do not match")
            return self._tokens(account[0])
        subject = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        return self._tokens(subject) if subject else self._refused("the refresh token is not good")

    def _refused(self, description: str) -> httpx.Response:
        return _json(400, {"error": "invalid_grant", "error_description": description})

    def _tokens(self, subject: str) -> httpx.Response:
        refresh = uuid.uuid4().hex
        self.refresh_tokens[refresh] = subject
        access = TOKENS.token(subject, "customer")
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 600, "scope": "customer"}
        return httpx.Response(200, json=body | {"refresh_token": refresh}, headers={"Cache-Control": "no-store"})


class Catalog(FakeService):
    """Albums: listed with filters and a cursor, and one by SKU."""

    def __init__(self) -> None:
        super().__init__("catalog")
        self.albums: dict[str, dict[str, Any]] = {
            sku: {"sku": sku, "title": title, "artist": artist, "genre": genre, "released": 1959,
                  "price": {"amount_minor": pence, "currency": "GBP"}}
            for sku, title, artist, genre, pence in CATALOGUE
        }  # fmt: skip
        self.answer("GET", "/albums", self.list_albums)
        self.answer("GET", "/albums/(?P<sku>[^/]+)", self.get_album)

    def list_albums(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        found = [
            album
            for album in self.albums.values()
            if params.get("genre", album["genre"]).lower() == album["genre"].lower()
            and params.get("q", "").lower() in f"{album['title']} {album['artist']}".lower()
            and album["sku"] > params.get("after", "")
        ]
        limit = int(params.get("limit", 20))
        return _json(
            200, {"items": found[:limit], "next_cursor": found[limit - 1]["sku"] if len(found) > limit else None}
        )

    def get_album(self, request: httpx.Request, sku: str) -> httpx.Response:
        found = self.albums.get(sku)
        return _json(200, found) if found else problem(404, "Album not found", f"no album {sku}")


class Warehouse(FakeService):
    """Stock levels; a SKU it has never had has none."""

    def __init__(self) -> None:
        super().__init__("warehouse")
        self.stock = {"ALB-00001": 12, "ALB-00002": 3, "ALB-00003": 0}
        self.answer("GET", "/stock", self.levels)

    def levels(self, request: httpx.Request) -> httpx.Response:
        skus = request.url.params.get_list("sku")
        return _json(200, {"items": [{"sku": sku, "available": self.stock.get(sku, 0)} for sku in skus]})


class Customer(FakeService):
    """The signed-in customer's profile and addresses (``/me``)."""

    def __init__(self) -> None:
        super().__init__("customer")
        ann = {"customer_id": ANN, "display_name": "Ann Smith", "email": ANN_EMAIL, "registered_at": NOW}
        self.profiles = {ANN: ann | {"updated_at": NOW}}
        home = {
            "name": "Ann Smith",
            "lines": ["1 High Street"],
            "city": "London",
            "postcode": "N1 1AA",
            "country": "GB",
        }
        self.addresses = {ANN: [home | {"id": "adr_home", "added_at": NOW, "updated_at": NOW}]}
        self.answer("GET", "/me/profile", self.profile)
        self.answer("PUT", "/me/profile", self.save_profile)
        self.answer("GET", "/me/addresses", self.list_addresses)
        self.answer("POST", "/me/addresses", self.add_address)

    def profile(self, request: httpx.Request) -> httpx.Response:
        found = self.profiles.get(subject_of(request) or "")
        return _json(200, found) if found else problem(404, "Profile not found")

    def save_profile(self, request: httpx.Request) -> httpx.Response:
        customer = subject_of(request) or ""
        status = 200 if customer in self.profiles else 201
        self.profiles[customer] = {"customer_id": customer, **_body(request), "registered_at": NOW, "updated_at": NOW}
        return _json(status, self.profiles[customer])

    def list_addresses(self, request: httpx.Request) -> httpx.Response:
        return _json(200, {"items": self.addresses.get(subject_of(request) or "", [])})

    def add_address(self, request: httpx.Request) -> httpx.Response:
        added = {"id": f"adr_{uuid.uuid4().hex[:6]}", **_body(request), "added_at": NOW, "updated_at": NOW}
        self.addresses.setdefault(subject_of(request) or "", []).append(added)
        return _json(201, added)


class Order(FakeService):
    """Orders placed once per Idempotency-Key, each customer's own; prices and addresses as the others have them."""

    def __init__(self, catalog: Catalog, customer: Customer) -> None:
        super().__init__("order")
        self.catalog, self.customer = catalog, customer
        self.orders: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.placed: dict[tuple[str, str], str] = {}
        self.answer("POST", "/orders", self.place)
        self.answer("GET", "/orders", self.list_orders)
        self.answer("GET", "/orders/(?P<order_id>ord-[0-9a-f]+)", self.get_order)
        self.answer("GET", "/orders/(?P<order_id>ord-[0-9a-f]+)/history", self.history)
        self.answer("POST", "/orders/(?P<order_id>ord-[0-9a-f]+)/cancel", self.cancel)

    def place(self, request: httpx.Request) -> httpx.Response:
        customer, body = subject_of(request) or "", _body(request)
        key = (customer, request.headers.get("idempotency-key", ""))
        if key in self.placed:
            return _json(200, self.orders[self.placed[key]])
        address = next(
            (a for a in self.customer.addresses.get(customer, []) if a["id"] == body["delivery_address_id"]), None
        )
        if address is None:
            field, message = "body.delivery_address_id", "no such address of the customer"
            return problem(
                422, "Order is not valid", f"{field}: {message}", errors=[{"field": field, "message": message}]
            )
        order_id = self.placed[key] = f"ord-{uuid.uuid4().hex}"
        lines = [self._line(line["sku"], line["quantity"]) for line in body["lines"]]
        delivery = {name: address[name] for name in ("name", "lines", "city", "postcode", "country")}
        self.orders[order_id] = {
            "id": order_id, "customer_id": customer, "status": "placed", "lines": lines,
            "total": {"amount_minor": sum(line["total"]["amount_minor"] for line in lines), "currency": "GBP"},
            "delivery_address": {"address_id": address["id"], **delivery}, "points_awarded": None,
            "card_last4": body["payment"]["card_number"][-4:], "placed_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        self.histories[order_id] = [{"at": NOW, "status": "placed", "event": "placed", "reason": None}]
        return _json(201, self.orders[order_id])

    def _line(self, sku: str, quantity: int) -> dict[str, Any]:
        album = self.catalog.albums[sku]
        total = {"amount_minor": album["price"]["amount_minor"] * quantity, "currency": "GBP"}
        return {k: album[k] for k in ("sku", "title", "artist")} | {
            "quantity": quantity, "unit_price": album["price"], "total": total
        }  # fmt: skip

    def list_orders(self, request: httpx.Request) -> httpx.Response:
        mine = [order for order in self.orders.values() if order["customer_id"] == subject_of(request)]
        return _json(200, {"items": mine[: int(request.url.params.get("limit", 20))], "next_cursor": None})

    def get_order(self, request: httpx.Request, order_id: str) -> httpx.Response:
        found = self._own(request, order_id)
        return _json(200, found) if found else problem(404, "Order not found", f"no order {order_id}")

    def history(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if not self._own(request, order_id):
            return problem(404, "Order not found", f"no order {order_id}")
        return _json(200, {"order_id": order_id, "items": self.histories[order_id]})

    def cancel(self, request: httpx.Request, order_id: str) -> httpx.Response:
        found = self._own(request, order_id)
        if found is None:
            return problem(404, "Order not found", f"no order {order_id}")
        if found["status"] not in ("placed", "stock_reserved"):
            return problem(409, "Order cannot be cancelled", "its payment is taken")
        found["status"] = "cancelled"
        self.histories[order_id].append({"at": NOW, "status": "cancelled", "event": "cancelled", "reason": "asked"})
        return _json(200, found)

    def _own(self, request: httpx.Request, order_id: str) -> dict[str, Any] | None:
        found = self.orders.get(order_id)
        return found if found and found["customer_id"] == subject_of(request) else None


class Loyalty(FakeService):
    """The signed-in customer's points: Ann earned 12 for an earlier order."""

    def __init__(self) -> None:
        super().__init__("loyalty")
        self.answer("GET", "/me/points", self.points)

    def points(self, request: httpx.Request) -> httpx.Response:
        customer = subject_of(request)
        award = {"number": 1, "order_id": "ord-" + "0" * 32, "kind": "award", "points": 12, "balance_after": 12,
                 "recorded_at": NOW, "amount": {"amount_minor": 1299, "currency": "GBP"}}  # fmt: skip
        entries = [award] if customer == ANN else []
        return _json(200, {"customer_id": customer, "balance": 12 if entries else 0, "entries": entries})


class Payment(FakeService):
    """The payment of one of the caller's own orders, once payment was asked to take it."""

    def __init__(self) -> None:
        super().__init__("payment")
        self.payments: dict[str, dict[str, Any]] = {}
        self.answer("GET", "/me/payments/(?P<order_id>[^/]+)", self.payment)

    def payment(self, request: httpx.Request, order_id: str) -> httpx.Response:
        found = self.payments.get(order_id)
        if found is None or found["customer_id"] != subject_of(request):
            return problem(404, "Payment not found", f"no payment for {order_id}")
        return _json(200, found)


class MusicCorp:
    """Every service the BFF calls."""

    def __init__(self) -> None:
        self.identity, self.catalog, self.warehouse = Identity(), Catalog(), Warehouse()
        self.customer, self.loyalty, self.payment = Customer(), Loyalty(), Payment()
        self.order = Order(self.catalog, self.customer)

    @property
    def services(self) -> dict[str, FakeService]:
        fakes = (self.identity, self.catalog, self.warehouse, self.customer, self.order, self.loyalty, self.payment)
        return {fake.name: fake for fake in fakes}

    def transports(self) -> dict[str, httpx.AsyncBaseTransport]:
        return {name: fake.transport() for name, fake in self.services.items()}

    def take_payment(self, order_id: str) -> None:
        """The order goes through stock and payment, as the saga would take it."""
        order = self.order.orders[order_id]
        order["status"] = "paid"
        self.order.histories[order_id] += [
            {"at": NOW, "status": "stock_reserved", "event": "stock_reserved", "reason": None},
            {"at": NOW, "status": "paid", "event": "payment_taken", "reason": None},
        ]
        self.payment.payments[order_id] = {
            "order_id": order_id, "customer_id": order["customer_id"], "status": "taken",
            "amount_minor": order["total"]["amount_minor"], "currency": "GBP", "card_last4": order["card_last4"],
            "charge_id": "ch_1", "decline_code": None, "failure_reason": None, "refund_id": None,
            "requested_at": NOW, "updated_at": NOW, "history": [],
        }  # fmt: skip
