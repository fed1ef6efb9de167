"""Which workloads may call which routes: deny by default, once a service serves mutual TLS.

The caller is the SPIFFE ID of the client certificate the request came with (``paved._tls``); through a mesh
proxy (``paved up``'s Envoy), whose own certificate names it as one of ``PAVED_TLS_TRUSTED_PROXIES``, it is the
certificate the proxy verified and forwarded in ``X-Forwarded-Client-Cert``. That header is believed from a
trusted proxy only: from anyone else it is ignored.

A route says who may call it with ``dependencies=[paved.callers("web-bff", "order")]`` (on the route or its
router); a route that says nothing accepts no workload, and a refusal is a 403 problem naming the caller.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.types import Scope

from paved._problems import Problem
from paved._tls import PEER

CALLER = "paved.caller"
XFCC = b"x-forwarded-client-cert"


def _forwarded_uri(header: str) -> str | None:
    """The URI of the last element of an ``X-Forwarded-Client-Cert`` header (Envoy's format:
    ``By=…;Hash=…;URI=spiffe://…``, elements separated by commas, values perhaps quoted)."""
    last = header.rsplit(",", 1)[-1]
    for pair in last.split(";"):
        key, _, value = pair.strip().partition("=")
        if key.lower() == "uri":
            return value.strip('"') or None
    return None


def caller_of(scope: Scope, *, trusted_proxies: frozenset[str]) -> str | None:
    """The SPIFFE ID the request speaks for: its client certificate's, or, from a trusted proxy, the one the
    proxy verified; None without either."""
    peer: str | None = scope.get("extensions", {}).get("tls", {}).get(PEER)
    if peer is None or peer not in trusted_proxies:
        return peer
    forwarded = [value for key, value in scope["headers"] if key == XFCC]
    return _forwarded_uri(forwarded[-1].decode("latin-1")) if len(forwarded) == 1 else None


class _Callers:
    """A route's allow-list (the marker ``check_caller`` looks for); as a dependency it does nothing more."""

    def __init__(self, services: frozenset[str], *, operators: bool, any_workload: bool, public: bool) -> None:
        self.services, self.operators, self.any_workload, self.public = services, operators, any_workload, public

    async def __call__(self) -> None:
        return None

    def admits(self, caller: str, trust_domain: str) -> bool:
        prefix = f"spiffe://{trust_domain}/"
        if not caller.startswith(prefix):
            return False
        kind, _, name = caller.removeprefix(prefix).partition("/")
        return (
            self.any_workload
            or (kind == "service" and name in self.services)
            or (kind == "operator" and self.operators)
        )


def callers(*services: str, operators: bool = False, any_workload: bool = False, public: bool = False) -> Any:
    """Who may call a route: the services named, the shop's operators (``paved up``'s operator certificate,
    for admin tools and tests) if ``operators``, any workload of the trust domain if ``any_workload`` (a key
    set), or anyone, with a certificate or without, if ``public`` (health probes; the edge that serves
    browsers, whose callers prove who they are with their access tokens).
    ``@router.get("/albums", dependencies=[paved.callers("web-bff", "order")])``, or on an ``APIRouter``;
    several declarations on one route add up."""
    return Depends(_Callers(frozenset(services), operators=operators, any_workload=any_workload, public=public))


def _allow_lists(route: APIRoute) -> list[_Callers]:
    return [d.dependency for d in route.dependencies if isinstance(d.dependency, _Callers)]


async def check_caller(request: Request) -> None:
    """Every route's gate (an app-wide dependency): with mutual TLS on, the caller must be on the route's
    allow-list. Without it (a service's own tests in one process, development without certificates) there is
    no caller to check, and nothing is."""
    service = request.app.state.paved
    if service.tls is None:
        return
    route = request.scope.get("route")
    allowed = _allow_lists(route) if isinstance(route, APIRoute) else []
    if any(a.public for a in allowed):
        return
    caller: str | None = request.scope.get(CALLER)
    if caller is None:
        raise Problem(
            403,
            "Forbidden",
            f"{service.name} takes calls only from workloads with a certificate of its trust domain: present one",
        )
    if not any(a.admits(caller, service.settings.trust_domain) for a in allowed):
        raise Problem(
            403, "Forbidden", f"{caller} may not call {request.method} {getattr(route, 'path', request.url.path)}"
        )
