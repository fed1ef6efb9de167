"""The services order calls while a customer waits, replaced at the outgoing edge (``httpx.MockTransport``).

The catalog answers ``GET /albums/{sku}`` from ``albums``; the customer service answers
``GET /me/addresses/{address_id}`` from ``addresses``, for the customer the forwarded access token names
(its subject: the fake reads it, and leaves verifying it to the customer service's own tests).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx

ALBUMS: dict[str, dict[str, Any]] = {
    "ALB-00001": {"title": "Blue Train", "artist": "John Coltrane", "price": {"amount_minor": 1299, "currency": "GBP"}},
    "ALB-00002": {"title": "Kind of Blue", "artist": "Miles Davis", "price": {"amount_minor": 999, "currency": "GBP"}},
    "ALB-00003": {
        "title": "Mingus Ah Um",
        "artist": "Charles Mingus",
        "price": {"amount_minor": 1099, "currency": "GBP"},
    },
}
ANNS_HOME = {
    "name": "Ann Smith",
    "lines": ["1 High Street", "Flat 2"],
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}


class Edges:
    """The catalog and the customer service, as order sees them; switchable off."""

    def __init__(self) -> None:
        self.albums = {sku: {"sku": sku, "genre": "Jazz", "released": 1959, **album} for sku, album in ALBUMS.items()}
        self.addresses: dict[tuple[str, str], dict[str, Any]] = {("acc_ann", "adr_home"): dict(ANNS_HOME)}
        self.catalog_down = False
        self.customer_down = False
        self.catalog_delay = 0.0
        self.customer_calls: list[tuple[str, str]] = []  # (whose token, the path)
        self.catalog_calls = 0

    async def _catalog(self, request: httpx.Request) -> httpx.Response:
        self.catalog_calls += 1
        if self.catalog_delay:
            await asyncio.sleep(self.catalog_delay)
        if self.catalog_down:
            raise httpx.ConnectError("connection refused", request=request)
        sku = request.url.path.removeprefix("/albums/")
        if sku not in self.albums:
            return httpx.Response(404, json={"type": "about:blank", "title": "Album not found", "status": 404})
        return httpx.Response(200, json=self.albums[sku])

    def _customer(self, request: httpx.Request) -> httpx.Response:
        if self.customer_down:
            return httpx.Response(503, json={"title": "Service Unavailable"})
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token.count(".") != 2:
            return httpx.Response(401, json={"title": "Unauthorized"})
        payload = token.split(".")[1]
        subject = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
        self.customer_calls.append((subject, request.url.path))
        address_id = request.url.path.removeprefix("/me/addresses/")
        found = self.addresses.get((subject, address_id))
        if found is None:
            return httpx.Response(404, json={"title": "Address not found"})
        return httpx.Response(
            200,
            json={"id": address_id, **found, "added_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"},
        )

    @property
    def catalog(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._catalog)

    @property
    def customer(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._customer)
