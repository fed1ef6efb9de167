from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from paved import ForwardedToken, service_client

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


def as_customer(token: str) -> httpx.Auth:
    """What ``paved.ForwardedToken`` does in a request that was verified with ``token``."""

    def sign(request: httpx.Request) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    return httpx.FunctionAuth(sign)


async def test_the_address_is_read_as_the_customer() -> None:
    """The customer service is asked for the customer's own address, with their token, and it is copied whole."""
    seen: list[httpx.Request] = []

    def customer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ADDRESS)

    customers = CustomersOverHttp(
        service_client("http://customer", auth=as_customer("anns-token"), transport=httpx.MockTransport(customer)),
        timeout=1,
    )
    address = await customers.address("acc_ann", "adr_home")
    assert address is not None and (address.name, address.lines, address.country) == (
        "Ann Smith",
        ("1 High Street",),
        "GB",
    )
    assert seen[0].url.path == "/me/addresses/adr_home"
    assert seen[0].headers["Authorization"] == "Bearer anns-token"


async def test_an_address_the_customer_does_not_have_is_none() -> None:
    """404 from the customer service means no such address of theirs."""
    customers = CustomersOverHttp(
        service_client(
            "http://customer",
            auth=as_customer("anns-token"),
            transport=httpx.MockTransport(lambda r: httpx.Response(404)),
        ),
        timeout=1,
    )
    assert await customers.address("acc_ann", "adr_nope") is None


@pytest.mark.parametrize("status", [401, 403, 500])
async def test_a_refusal_of_the_customers_token_or_a_server_error_is_unavailability(status: int) -> None:
    """A token order accepted but the customer service refuses is a set-up that disagrees: 503, not 422."""
    customers = CustomersOverHttp(
        service_client(
            "http://customer",
            auth=as_customer("anns-token"),
            transport=httpx.MockTransport(lambda r: httpx.Response(status)),
        ),
        timeout=1,
    )
    with pytest.raises(UpstreamUnavailableError):
        await customers.address("acc_ann", "adr_home")


async def test_outside_a_request_there_is_no_token_to_read_an_address_with() -> None:
    """paved's ForwardedToken with no verified token in hand: nothing is sent, and no address is had."""

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("called without the customer's token")

    customers = CustomersOverHttp(
        service_client("http://customer", auth=ForwardedToken(), transport=httpx.MockTransport(never)), timeout=1
    )
    with pytest.raises(UpstreamUnavailableError, match="TokenUnavailableError"):
        await customers.address("acc_ann", "adr_home")
