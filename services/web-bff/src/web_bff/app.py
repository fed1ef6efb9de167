"""web-bff's composition root: builds its paved Service, its clients to the other services, its pages' routes."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from paved import Service

from web_bff import __version__, api, page
from web_bff.clients import Downstream, DownstreamError, Downstreams, problem_of
from web_bff.domain import MixedCurrenciesError
from web_bff.settings import DOWNSTREAM_SERVICES, WebBffSettings
from web_bff.use_cases import Storefront


def _downstreams(
    service: Service, settings: WebBffSettings, transports: Mapping[str, httpx.AsyncBaseTransport]
) -> Downstreams:
    unknown = set(transports) - set(DOWNSTREAM_SERVICES)
    if unknown:
        raise ValueError(f"no such service to replace: {', '.join(sorted(unknown))}")
    timeout = settings.web_bff_call_timeout_seconds
    clients = {}
    for name in DOWNSTREAM_SERVICES:
        url = settings.url_of(name)
        # paved's client of each: its retries, breaker and bulkhead per service (PAVED_UPSTREAMS__<NAME>__…).
        client = service.client(name, url, transport=transports.get(name)) if url else None
        clients[name] = Downstream(name, client, timeout=timeout)
    return Downstreams(deadlines=settings.deadlines, **clients)


async def _downstream_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DownstreamError)
    return problem_of(exc).response(request)


def create_service(
    settings: WebBffSettings | None = None, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Service:
    """The web-bff service; ``paved serve`` calls this at process start, tests with their settings.

    ``transports`` replaces the network to the services named (``"catalog"``, ``"order"``, …), for
    tests: ``httpx.MockTransport``.
    """
    settings = settings if settings is not None else WebBffSettings()
    # It keeps nothing and sends no messages: no database, no broker, ready whenever it runs.
    service = Service(name="web-bff", version=__version__, settings=settings, database=False)
    downstreams = _downstreams(service, settings, transports or {})
    service.provide(Storefront, Storefront(downstreams))
    service.include_router(api.router)
    service.include_router(page.router())
    service.app.add_exception_handler(DownstreamError, _downstream_failed)
    service.map_error(MixedCurrenciesError, status=409, title="Basket cannot be totalled")
    return service
