"""Who the caller is (its certificate, or what a trusted proxy forwarded) and whom an allow-list admits."""

from __future__ import annotations

from typing import Any

import pytest

from paved import Service, ServiceSettings
from paved._callers import _Callers, _forwarded_uri, caller_of
from paved._tls import PEER, spiffe_id_of

ORDER = "spiffe://musiccorp.local/service/order"
ENVOY = "spiffe://musiccorp.local/platform/envoy"


def scope(peer: str | None, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"extensions": {"tls": {PEER: peer}}, "headers": list(headers)}


def test_the_caller_is_the_certificates_spiffe_id() -> None:
    assert caller_of(scope(ORDER), trusted_proxies=frozenset({ENVOY})) == ORDER
    assert caller_of(scope(None), trusted_proxies=frozenset()) is None
    assert caller_of({"headers": []}, trusted_proxies=frozenset()) is None, "no TLS at all: no caller"


def test_only_a_trusted_proxy_speaks_for_another() -> None:
    forwarded = (b"x-forwarded-client-cert", f'By=spiffe://x;Hash=ab;URI="{ORDER}"'.encode())
    assert caller_of(scope(ENVOY, forwarded), trusted_proxies=frozenset({ENVOY})) == ORDER
    impostor = "spiffe://musiccorp.local/service/web-bff"
    assert caller_of(scope(impostor, forwarded), trusted_proxies=frozenset({ENVOY})) == impostor
    assert caller_of(scope(ENVOY), trusted_proxies=frozenset({ENVOY})) is None, "a proxy that forwards no one"
    twice = (forwarded, (b"x-forwarded-client-cert", b"URI=spiffe://musiccorp.local/service/web-bff"))
    assert caller_of(scope(ENVOY, *twice), trusted_proxies=frozenset({ENVOY})) is None, "two headers: believe none"


def test_the_last_element_of_a_forwarded_chain_is_the_caller() -> None:
    assert _forwarded_uri(f"URI=spiffe://a/service/x,By=b;URI={ORDER}") == ORDER
    assert _forwarded_uri("By=spiffe://b;Hash=00") is None


def test_an_allow_list_admits_by_kind_and_name_within_its_trust_domain() -> None:
    services = _Callers(frozenset({"order"}), operators=False, any_workload=False, public=False)
    assert services.admits(ORDER, "musiccorp.local")
    assert not services.admits("spiffe://musiccorp.local/service/web-bff", "musiccorp.local")
    assert not services.admits("spiffe://elsewhere.example/service/order", "musiccorp.local")
    assert not services.admits("spiffe://musiccorp.local/operator/order", "musiccorp.local")
    operators = _Callers(frozenset(), operators=True, any_workload=False, public=False)
    assert operators.admits("spiffe://musiccorp.local/operator/paved", "musiccorp.local")
    assert not operators.admits(ORDER, "musiccorp.local")
    anyone = _Callers(frozenset(), operators=False, any_workload=True, public=False)
    assert anyone.admits(ENVOY, "musiccorp.local") and not anyone.admits("spiffe://x/service/a", "musiccorp.local")


def test_a_certificate_names_one_spiffe_id_or_none() -> None:
    assert spiffe_id_of({"subjectAltName": (("DNS", "localhost"), ("URI", ORDER))}) == ORDER
    assert spiffe_id_of({"subjectAltName": (("URI", ORDER), ("URI", ENVOY))}) is None
    assert spiffe_id_of({"subjectAltName": (("URI", "https://example.com"),)}) is None
    assert spiffe_id_of({}) is None and spiffe_id_of(None) is None


def test_a_service_in_production_refuses_to_start_without_a_workload_certificate() -> None:
    with pytest.raises(ValueError, match="PAVED_TLS_CERT_FILE"):
        Service(name="shelf", version="0", database=False, settings=ServiceSettings(environment="production"))
    with pytest.raises(ValueError, match="go together"):
        ServiceSettings(tls_cert_file="cert.pem")
