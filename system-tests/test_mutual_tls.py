"""Mutual TLS as `paved up` ships it: every call between services is over TLS through Envoy, who may call which
route is checked by name, and certificates that last seconds are renewed under load with no failed request."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from conftest import Customer, PavedUp, whole_shop

# Short enough that a renewal (at two thirds of it) comes every 10 s while the tests run.
LIFETIME_SECONDS = 15


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(
        tmp_path_factory.mktemp("tls") / "state", env={"PAVED_CERT_LIFETIME_SECONDS": str(LIFETIME_SECONDS)}
    ) as shop:
        yield shop


def proxied(shop: PavedUp, service: str) -> str:
    """Where the other services call ``service``: its listener on Envoy."""
    return str(shop.run_info()["services"][service]["proxy_url"])


def presented(url: str, ca_file: Path) -> x509.Certificate:
    """The certificate a server presents now, from a new connection."""
    host, port = url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=ca_file)
    with context.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_through_envoy_the_service_sees_the_callers_own_identity(shop: PavedUp) -> None:
    """Envoy forwards the certificate it verified: order may read the catalogue, not a customer's points."""
    tls = shop.tls("order")
    with httpx.Client(verify=tls, timeout=10) as order:
        assert order.get(f"{proxied(shop, 'catalog')}/albums", params={"limit": 1}).status_code == 200
        refused = order.get(f"{proxied(shop, 'loyalty')}/me/points")
    assert refused.status_code == 403
    assert "spiffe://musiccorp.local/service/order may not call GET /me/points" in refused.json()["detail"]


def test_a_forged_forwarded_certificate_changes_nothing(shop: PavedUp) -> None:
    """Envoy replaces whatever X-Forwarded-Client-Cert a caller sends with what it verified itself."""
    forged = {"X-Forwarded-Client-Cert": "By=x;URI=spiffe://musiccorp.local/service/web-bff"}
    with httpx.Client(verify=shop.tls("order"), timeout=10) as order:
        refused = order.get(f"{proxied(shop, 'loyalty')}/me/points", headers=forged)
    assert refused.status_code == 403 and "service/order may not call" in refused.json()["detail"]


def test_no_certificate_is_refused_directly_and_at_the_proxy(shop: PavedUp) -> None:
    trusting = ssl.create_default_context(cafile=shop.state / "pki" / "ca.pem")
    with httpx.Client(verify=trusting, timeout=10) as anonymous:
        direct = anonymous.get(f"{shop.url('catalog')}/albums")
        assert direct.status_code == 403 and "present one" in direct.json()["detail"]
        with pytest.raises((httpx.NetworkError, httpx.RemoteProtocolError)):
            anonymous.get(f"{proxied(shop, 'catalog')}/albums")
    # Plain HTTP to a service's port gets no answer at all: it serves TLS only.
    with httpx.Client(timeout=10) as plain, pytest.raises(httpx.TransportError):
        plain.get(f"{shop.url('catalog').replace('https://', 'http://')}/albums")


def test_certificates_renewed_under_load_fail_no_request(shop: PavedUp) -> None:
    """Journeys through web-bff (to identity, catalog, warehouse, customer, order: each a TLS hop through
    Envoy) keep running while every certificate is renewed twice: none fails, and every server presents its
    new certificate without a restart."""
    ca_file = shop.state / "pki" / "ca.pem"
    before = {name: presented(shop.url(name), ca_file).serial_number for name in ("catalog", "order")}
    pids = {name: shop.pid(name) for name in ("catalog", "order", "web-bff")}
    failures: list[str] = []
    calls = 0
    stop = threading.Event()

    def storefront() -> None:
        nonlocal calls
        with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=15) as bff:
            customer = Customer(bff, "renewal")
            while not stop.is_set():
                for answer in (bff.get("/browse", params={"limit": 5}), bff.get("/account", headers=customer.headers)):
                    calls += 1
                    if answer.status_code != 200:
                        failures.append(f"{answer.request.url}: {answer.status_code} {answer.text}")

    workers = [threading.Thread(target=storefront) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(LIFETIME_SECONDS * 2 / 3 * 2 + 3)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert failures == []
    assert calls > 50
    for name, serial in before.items():
        assert presented(shop.url(name), ca_file).serial_number != serial, (
            f"{name} still presents its first certificate"
        )
    assert {name: shop.pid(name) for name in pids} == pids, "nothing was restarted"
    assert "certificate renewed" in (shop.state / "logs" / "catalog.log").read_text()
