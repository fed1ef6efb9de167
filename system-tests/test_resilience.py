"""The shop under real faults: real processes killed and frozen, and Envoy (`paved up`'s fault proxy, between
every two services) delaying and failing real calls. What a customer sees, and what each service's
/metrics and the proxy's own counters say happened (docs/resilience.md).

A service is kept dead by freezing `paved up` itself (SIGSTOP) before killing it: its supervisor would
restart it at once otherwise; thawed (SIGCONT), it finds the service gone and starts it again.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from paved_platform.faults import FaultProxy

from conftest import IN_STOCK, Customer, PavedUp, eventually, wait_ready, whole_shop

# A warehouse that cannot answer a command within 3 s does not get to carry it out (the expired command
# test); its breaker counts nothing but failures in a row, so that the 50% of 503s test measures the
# retry budget alone.
SHOP_ENV = {
    "PAVED_ORDER_COMMAND_DEADLINE_SECONDS": "3",
    "PAVED_UPSTREAMS__WAREHOUSE__BREAKER__FAILURE_RATE": "1.0",
    "PAVED_UPSTREAMS__WAREHOUSE__BREAKER__CONSECUTIVE_FAILURES": "1000",
    # The slow card processor's test spends two attempts of each charge on its 5 s delay, and the next ones
    # may meet payment's open circuit (3 to 4.5 s): five attempts (the default) can all be gone before it is back.
    "PAVED_PAYMENT_CHARGE_ATTEMPTS": "10",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(tmp_path_factory.mktemp("resilience") / "state", env=SHOP_ENV) as shop:
        yield shop


@pytest.fixture(scope="module")
def proxy(shop: PavedUp) -> FaultProxy:
    return FaultProxy.attach(shop.run_info()["proxy"]["admin_url"], scheme="https")


@pytest.fixture(autouse=True)
def no_faults_after(proxy: FaultProxy) -> Iterator[None]:
    yield
    proxy.clear_all()


@pytest.fixture(scope="module")
def bff(shop: PavedUp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def customer(bff: httpx.Client) -> Customer:
    return Customer(bff, "resilient")


@contextmanager
def supervisor_frozen(shop: PavedUp) -> Iterator[None]:
    """`paved up` stopped (not its services): what dies meanwhile stays dead until the block ends."""
    assert shop.process is not None
    os.kill(shop.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(shop.process.pid, signal.SIGCONT)


def kill(shop: PavedUp, service: str) -> None:
    url, verify = shop.url(service), shop.tls()
    os.kill(shop.pid(service), signal.SIGKILL)

    def dead() -> bool:
        try:
            httpx.get(f"{url}/health/live", timeout=0.5, verify=verify)
        except httpx.TransportError:
            return True
        return False

    assert eventually(dead, timeout=10), f"{service} still answers"


def metric(shop: PavedUp, service: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples at the service's /metrics whose labels include ``labels``."""
    total = 0.0
    with shop.client(service) as scraper:
        lines = scraper.get("/metrics").text.splitlines()
    for line in lines:
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(2))
    return total


def timed(call: object) -> tuple[httpx.Response, float]:
    assert callable(call)
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_with_the_catalog_dead_orders_fail_fast_and_its_circuit_opens_then_closes_when_it_is_back(
    shop: PavedUp, bff: httpx.Client, customer: Customer
) -> None:
    with supervisor_frozen(shop):
        kill(shop, "catalog")
        for _ in range(3):  # the first find it dead, and open the circuit
            assert customer.check_out(IN_STOCK).status_code == 503
        assert metric(shop, "order", "circuit_state", upstream="catalog") == 2, "order's circuit to the catalog is open"
        attempts = metric(shop, "order", "upstream_attempts_total", upstream="catalog")
        refused = metric(shop, "order", "upstream_rejected_total", upstream="catalog", reason="circuit_open")
        answers = [timed(lambda: customer.check_out(IN_STOCK)) for _ in range(10)]
        for answer, _ in answers:
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/problem+json"
            assert "catalog is unavailable now: try again" in answer.json()["detail"]
        assert statistics.median(seconds for _, seconds in answers) < 0.1, "a checkout fails within 100 ms"
        # Calls reaching the catalog drop to the half-open probes (two at most), the rest are refused at once.
        assert metric(shop, "order", "upstream_attempts_total", upstream="catalog") - attempts <= 2
        assert (
            metric(shop, "order", "upstream_rejected_total", upstream="catalog", reason="circuit_open") - refused >= 8
        )
        browse = bff.get("/browse")
        assert browse.status_code in (503, 504) and browse.json()["service"] == "catalog", browse.text
    wait_ready(shop, "catalog")  # started again by the thawed supervisor
    back = time.monotonic()
    placed = eventually(lambda: (answer := customer.check_out(IN_STOCK)).status_code == 201 and answer, timeout=20)
    assert placed, "orders are placed again once the catalog is back"
    # Half-open, the first orders are its probes; as many successes close it.
    closed = eventually(
        lambda: (
            customer.check_out(IN_STOCK).status_code == 201
            and metric(shop, "order", "circuit_state", upstream="catalog") == 0
        ),
        timeout=20,
    )
    assert closed, "order's circuit to the catalog closed"
    assert time.monotonic() - back < 10, "within seconds of the catalog's return"


def test_with_the_warehouse_dead_the_catalogue_is_served_without_availability(shop: PavedUp, bff: httpx.Client) -> None:
    with supervisor_frozen(shop):
        kill(shop, "warehouse")
        page = bff.get("/browse", params={"limit": 5})
        assert page.status_code == 200, page.text
        assert {item["availability"] for item in page.json()["items"]} == {"unknown"}
    wait_ready(shop, "warehouse")
    assert eventually(
        lambda: {i["availability"] for i in bff.get("/browse", params={"limit": 5}).json()["items"]} != {"unknown"}
    )


def test_an_upstream_answering_half_503s_sees_at_most_1_25_attempts_per_call(
    shop: PavedUp, bff: httpx.Client, proxy: FaultProxy
) -> None:
    """Counted at the upstream (the proxy in front of the warehouse), against the calls web-bff made."""
    proxy.abort("warehouse", 503, percent=50)
    calls = metric(shop, "web-bff", "upstream_calls_total", upstream="warehouse")
    arrived = proxy.downstream_requests("warehouse")
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: bff.get("/browse", params={"limit": 3}).status_code, range(400)))
    assert set(pages) == {200}, "the catalogue is served, with or without availability"
    made = metric(shop, "web-bff", "upstream_calls_total", upstream="warehouse") - calls
    attempts = proxy.downstream_requests("warehouse") - arrived
    assert made >= 400
    assert attempts <= 1.25 * made, f"{attempts} attempts for {made} calls: a retry storm"
    assert attempts > 1.05 * made, "and some calls were retried, within the budget"
    assert metric(shop, "web-bff", "upstream_retry_budget_exhausted_total", upstream="warehouse") > 0


def test_a_slow_upstream_does_not_slow_calls_to_the_others(
    shop: PavedUp, bff: httpx.Client, customer: Customer, proxy: FaultProxy
) -> None:
    """The warehouse 3 s slow: web-bff keeps browsing within its 0.8 s for availability, and its calls to
    order (the customer's orders) are as quick as ever."""
    proxy.delay("warehouse", 3.0, percent=100)
    with ThreadPoolExecutor(16) as pool:
        browsing = [pool.submit(lambda: timed(lambda: bff.get("/browse", params={"limit": 3}))) for _ in range(48)]
        time.sleep(0.5)  # the warehouse's calls pile up
        orders = [timed(lambda: bff.get("/orders", headers=customer.headers)) for _ in range(10)]
        pages = [future.result() for future in browsing]
    assert all(answer.status_code == 200 for answer, _ in orders)
    assert statistics.median(seconds for _, seconds in orders) < 0.5, "calls to order are not held up"
    assert all(answer.status_code == 200 for answer, _ in pages)
    assert max(seconds for _, seconds in pages) < 2.5, "no page waits for the 3 s warehouse"


def test_an_overloaded_service_sheds_what_it_cannot_serve_and_recovers(shop: PavedUp) -> None:
    catalog = shop.url("catalog")
    shed_before = metric(shop, "catalog", "http_shed_total", reason="over_capacity")

    async def flood() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=400)
        async with httpx.AsyncClient(base_url=catalog, timeout=30, limits=limits, verify=shop.tls("web-bff")) as client:
            return await asyncio.gather(*(client.get("/albums", params={"limit": 50}) for _ in range(400)))

    answers = asyncio.run(flood())  # every one answered: none left hanging, none failed
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 503} and statuses.count(200) > 0
    shed = [answer for answer in answers if answer.status_code == 503]
    assert shed, "over its capacity, the catalog sheds"
    assert all(answer.headers["retry-after"] == "1" for answer in shed)
    assert metric(shop, "catalog", "http_shed_total", reason="over_capacity") - shed_before == len(shed)
    with shop.client("catalog", as_="web-bff") as storefront:
        recovered = [storefront.get("/albums", params={"limit": 5}).status_code for _ in range(5)]
    assert recovered == [200] * 5


def test_with_the_card_processor_5_s_slow_checkouts_are_answered_and_orders_finish_once_it_recovers(
    shop: PavedUp, customer: Customer, proxy: FaultProxy
) -> None:
    proxy.delay("payment-provider", 5.0, percent=100)
    answers = [timed(lambda: customer.check_out(IN_STOCK)) for _ in range(3)]
    for answer, seconds in answers:
        assert answer.status_code == 201, answer.text
        assert seconds < 10, "answered within the checkout's deadline"
    time.sleep(6)  # at least one call to the processor has timed out meanwhile
    assert metric(shop, "payment", "upstream_attempts_total", upstream="payment-provider", outcome="timeout") > 0
    proxy.clear("payment-provider")
    for answer, _ in answers:
        assert customer.settled(answer.json()["id"], timeout=120)["status"] == "dispatched"


def test_a_command_that_arrives_after_its_deadline_is_not_carried_out(shop: PavedUp, customer: Customer) -> None:
    storefront = shop.client("warehouse", as_="web-bff")
    units = storefront.get(f"/stock/{IN_STOCK}").json()["available"]
    expired = metric(shop, "warehouse", "messages_expired_total")
    os.kill(shop.pid("warehouse"), signal.SIGSTOP)  # alive but not answering: its commands wait in the stream
    try:
        placed = customer.check_out(IN_STOCK)
        assert placed.status_code == 201, placed.text
        time.sleep(5)  # order's 3 s for the warehouse to reserve the stock pass
    finally:
        os.kill(shop.pid("warehouse"), signal.SIGCONT)
    final = customer.settled(placed.json()["id"], timeout=60)
    assert final["status"] == "rejected", final
    assert eventually(lambda: metric(shop, "warehouse", "messages_expired_total") > expired, timeout=20)
    assert storefront.get(f"/stock/{IN_STOCK}").json()["available"] == units, "nothing reserved"
