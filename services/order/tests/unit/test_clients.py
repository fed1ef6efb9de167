from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from paved import ClientCredentials, service_client

from order.clients import CatalogOverHttp, CustomersOverHttp
from order.domain import Money
from order.ports import UpstreamUnavailableError

ALBUMS = {
    "ALB-00001": {
        "sku": "ALB-00001",
        "title": "Blue Train",
        "artist": "John Coltrane",
        "genre": "Jazz",
        "released": 1957,
        "price": {"amount_minor": 1299, "currency": "GBP"},
    },
    "ALB-00002": {
        "sku": "ALB-00002",
        "title": "Kind of Blue",
        "artist": "Miles Davis",
        "genre": "Jazz",
        "released": 1959,
        "price": {"amount_minor": 999, "currency": "GBP"},
    },
}
ADDRESS = {
    "id": "adr_home",
    "name": "Ann Smith",
    "lines": ["1 High Street"],
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
    "added_at": "2026-11-01T10:00:00Z",
    "updated_at": "2026-11-01T10:00:00Z",
}


def catalog_answering(handler: httpx.MockTransport, *, timeout: float = 1.0) -> CatalogOverHttp:
    return CatalogOverHttp(service_client("http://catalog", transport=handler), timeout=timeout)


async def test_prices_come_from_the_catalog_all_asked_at_once() -> None:
    """Every SKU is asked for before any answer comes back; unknown ones are left out."""
    in_flight, all_asked = 0, asyncio.Event()

    async def catalog(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 3:
            all_asked.set()
        await asyncio.wait_for(all_asked.wait(), timeout=1)
        sku = request.url.path.rsplit("/", 1)[-1]
        if sku not in ALBUMS:
            return httpx.Response(404, json={"title": "Album not found"})
        return httpx.Response(200, json=ALBUMS[sku])

    found = await catalog_answering(httpx.MockTransport(catalog)).items(["ALB-00001", "ALB-00002", "ALB-09999"])
    assert {sku: item.price for sku, item in found.items()} == {
        "ALB-00001": Money(1299, "GBP"),
        "ALB-00002": Money(999, "GBP"),
    }
    assert found["ALB-00001"].title == "Blue Train"


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: httpx.Response(503),
        lambda request: httpx.Response(200, json={"sku": "ALB-00001", "price": "cheap"}),
        lambda request: httpx.Response(
            200, json={**ALBUMS["ALB-00001"], "price": {"amount_minor": 12.99, "currency": "GBP"}}
        ),
    ],
    ids=["5xx", "not-an-album", "float-price"],
)
async def test_an_unclear_answer_from_the_catalog_is_unavailability(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    """Anything but an album or a 404 means the catalog cannot be relied on now."""
    with pytest.raises(UpstreamUnavailableError, match="catalog"):
        await catalog_answering(httpx.MockTransport(answer)).items(["ALB-00001"])


async def test_a_catalog_that_does_not_answer_in_time_is_unavailability() -> None:
    """The lookup's deadline holds even if the catalog never answers."""

    async def silent(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    with pytest.raises(UpstreamUnavailableError, match=r"within 0\.2 s"):
        await catalog_answering(httpx.MockTransport(silent), timeout=0.2).items(["ALB-00001", "ALB-00002"])


async def test_a_catalog_that_refuses_connections_is_unavailability() -> None:
    """A connection error is not an unknown SKU."""

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UpstreamUnavailableError, match="ConnectError"):
        await catalog_answering(httpx.MockTransport(refused)).items(["ALB-00001"])


def credentials(issued: list[str]) -> ClientCredentials:
    """Order's client credentials against a token endpoint of the test's, which records what it issues."""

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"].startswith("Basic ")
        issued.append(f"token-{len(issued) + 1}")
        return httpx.Response(200, json={"access_token": issued[-1], "token_type": "Bearer", "expires_in": 600})

    return ClientCredentials(
        "http://identity/oauth/token",
        client_id="order",
        client_secret="s" * 32,
        transport=httpx.MockTransport(token_endpoint),
    )


async def test_the_address_is_read_with_orders_own_token() -> None:
    """The customer service is called as order itself, and the address is copied whole."""
    issued: list[str] = []
    seen: list[httpx.Request] = []

    def customer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ADDRESS)

    customers = CustomersOverHttp(
        service_client("http://customer", auth=credentials(issued), transport=httpx.MockTransport(customer)), timeout=1
    )
    address = await customers.address("acc_ann", "adr_home")
    assert address is not None and (address.name, address.lines, address.country) == (
        "Ann Smith",
        ("1 High Street",),
        "GB",
    )
    assert seen[0].url.path == "/customers/acc_ann/addresses/adr_home"
    assert seen[0].headers["Authorization"] == f"Bearer {issued[0]}"


async def test_an_address_the_customer_does_not_have_is_none() -> None:
    """404 from the customer service means no such address of theirs."""
    customers = CustomersOverHttp(
        service_client(
            "http://customer", auth=credentials([]), transport=httpx.MockTransport(lambda r: httpx.Response(404))
        ),
        timeout=1,
    )
    assert await customers.address("acc_ann", "adr_nope") is None


@pytest.mark.parametrize("status", [401, 403, 500])
async def test_a_refusal_of_orders_credentials_or_a_server_error_is_unavailability(status: int) -> None:
    """Order's own set-up being wrong is not the customer's fault: 503, not 422."""
    customers = CustomersOverHttp(
        service_client(
            "http://customer", auth=credentials([]), transport=httpx.MockTransport(lambda r: httpx.Response(status))
        ),
        timeout=1,
    )
    with pytest.raises(UpstreamUnavailableError):
        await customers.address("acc_ann", "adr_home")


async def test_without_client_credentials_order_does_not_call_the_customer_service() -> None:
    """A missing set-up is named, instead of a 401 from the other side."""

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("called without credentials")

    customers = CustomersOverHttp(
        service_client("http://customer", auth=None, transport=httpx.MockTransport(never)), timeout=1
    )
    with pytest.raises(UpstreamUnavailableError, match="PAVED_CLIENT_ID"):
        await customers.address("acc_ann", "adr_home")


async def test_a_token_issuer_that_does_not_answer_is_unavailability() -> None:
    """No token, no address: the order is not placed."""

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    auth = ClientCredentials(
        "http://identity/oauth/token", client_id="order", client_secret="s" * 32, transport=httpx.MockTransport(down)
    )
    customers = CustomersOverHttp(
        service_client(
            "http://customer", auth=auth, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=ADDRESS))
        ),
        timeout=1,
    )
    with pytest.raises(UpstreamUnavailableError, match="TokenUnavailableError"):
        await customers.address("acc_ann", "adr_home")
