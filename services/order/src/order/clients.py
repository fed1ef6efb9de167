"""What order asks other services over HTTP while a customer waits: prices at the catalog, the delivery
address at the customer service. Through paved's client (``Service.client``: retries, a breaker and a
bulkhead per service), each with a deadline for the whole lookup.

Each uses one client for the process's life (paved closes it when the service stops), so its connections
are kept open between orders: a client per lookup was a new client, a new TCP connection and a new
connection on the callee's side for every order placed (bench/README.md, issue 5). While the catalog's
circuit is open, paved answers for it at once (a 503), so an order fails fast instead of waiting.

Anything but a clear answer in time (no connection, a timeout, a 5xx, a body that is not what the
contract says) is ``UpstreamUnavailableError``: the order is not placed, and the customer may try again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Annotated

import httpx
import structlog
from paved import TokenUnavailableError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from order.domain import CatalogItem, DeliveryAddress, Money
from order.ports import UpstreamUnavailableError

log = structlog.get_logger(logger_name="order.clients")

Text = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Price(BaseModel):
    amount_minor: int = Field(gt=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class _Album(BaseModel):
    """The catalog's ``AlbumOut``, as far as order reads it."""

    model_config = ConfigDict(extra="ignore")

    sku: str
    title: Text
    artist: Text
    price: _Price


class _Address(BaseModel):
    """The customer service's ``AddressOut``, as far as order reads it (and its columns hold)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    lines: list[Text] = Field(min_length=1, max_length=10)
    city: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class CatalogOverHttp:
    """The catalog's prices, one ``GET /albums/{sku}`` per line, all at once, within ``timeout`` seconds;
    ``client`` is None when order was not told where the catalog is."""

    def __init__(self, client: httpx.AsyncClient | None, *, timeout: float) -> None:
        self.client = client
        self.timeout = timeout

    async def items(self, skus: Collection[str]) -> dict[str, CatalogItem]:
        """The albums of ``skus`` the catalog sells, at today's prices (see ``ports.Catalog``)."""
        if self.client is None:
            raise UpstreamUnavailableError("order does not know where the catalog is (PAVED_CATALOG_URL is not set)")
        try:
            async with asyncio.timeout(self.timeout):
                found = await self._albums(self.client, skus)
        except TimeoutError as exc:
            raise UpstreamUnavailableError(f"the catalog did not answer within {self.timeout:g} s") from exc
        return {item.sku: item for item in found if item is not None}

    async def _albums(self, client: httpx.AsyncClient, skus: Collection[str]) -> list[CatalogItem | None]:
        try:
            async with asyncio.TaskGroup() as group:
                asked = [group.create_task(self._album(client, sku)) for sku in skus]
        except* UpstreamUnavailableError as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in asked]

    async def _album(self, client: httpx.AsyncClient, sku: str) -> CatalogItem | None:
        try:
            response = await client.get(f"/albums/{sku}")
        except httpx.HTTPError as exc:
            raise UpstreamUnavailableError(f"the catalog did not answer ({type(exc).__name__})") from exc
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
            # The catalog's own, or paved's while its circuit is open: nothing was placed, so again is safe.
            raise UpstreamUnavailableError("the catalog is unavailable now: try again in a few seconds")
        if response.status_code != httpx.codes.OK:
            raise UpstreamUnavailableError(f"the catalog answered {response.status_code} for {sku}")
        try:
            album = _Album.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamUnavailableError(f"the catalog's answer for {sku} is not an album") from exc
        price = Money(album.price.amount_minor, album.price.currency)
        return CatalogItem(sku=sku, title=album.title, artist=album.artist, price=price)


class CustomersOverHttp:
    """The customer's own delivery address, read as the customer within ``timeout`` seconds: the client sends
    on the access token the order was placed with (``paved.ForwardedToken``), so the customer service
    serves only an address of the customer that token names. Order holds no right of its own to anyone's
    addresses, so no request to it can borrow one (the confused deputy). ``client`` is None when order was
    not told where the customer service is."""

    def __init__(self, client: httpx.AsyncClient | None, *, timeout: float) -> None:
        self.client = client
        self.timeout = timeout

    async def address(self, customer_id: str, address_id: str) -> DeliveryAddress | None:
        """The customer's delivery address, or None (see ``ports.Customers``). Whose it is comes from the
        forwarded token; ``customer_id`` is that token's subject, and names the customer in logs."""
        if self.client is None:
            raise UpstreamUnavailableError(
                "order does not know where the customer service is (PAVED_CUSTOMER_URL is not set)"
            )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.get(f"/me/addresses/{address_id}")
        except (httpx.HTTPError, TokenUnavailableError, TimeoutError) as exc:
            raise UpstreamUnavailableError(f"the customer service did not answer ({type(exc).__name__})") from exc
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            # The token was good enough for order a moment ago; a refusal now is a set-up that disagrees
            # (another issuer or audience, a caller list without order), not the customer's request.
            log.error(
                "the customer service refused the customer's token",
                customer_id=customer_id,
                status=response.status_code,
            )
            raise UpstreamUnavailableError(
                f"the customer service refused the customer's token ({response.status_code})"
            )
        if response.status_code != httpx.codes.OK:
            raise UpstreamUnavailableError(f"the customer service answered {response.status_code}")
        try:
            found = _Address.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamUnavailableError("the customer service's answer is not an address") from exc
        return DeliveryAddress(
            address_id=address_id,
            name=found.name,
            lines=tuple(found.lines),
            city=found.city,
            postcode=found.postcode,
            country=found.country,
        )
