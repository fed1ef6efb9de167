"""The client every outbound HTTP call goes through: ids and the deadline travel on, and every call has
the stability patterns of ``paved._resilience`` (retries within a budget, a breaker, a bulkhead).

A call to another service may carry this service's own access token (OAuth2 client credentials):
``ClientCredentials`` gets it from the token issuer, keeps it until shortly before it expires, and
gets a new one when the callee says it is no longer good (401).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import AsyncGenerator, Callable

import httpx

from paved import _context as context
from paved._metrics import UpstreamMetrics
from paved._middleware import CORRELATION_ID
from paved._resilience import ResilientTransport, UpstreamPolicy
from paved._settings import ServiceSettings
from paved._tls import WorkloadTls


async def _propagate_ids(request: httpx.Request) -> None:
    if (cid := context.correlation_id.get()) is not None:
        request.headers.setdefault(CORRELATION_ID, cid)
    if (rid := context.request_id.get()) is not None:
        # The caller's request id becomes the callee's causation: the callee makes its own.
        request.headers.setdefault("x-caused-by", rid)


@functools.cache
def _tls() -> ssl.SSLContext:
    # Made once per process: httpx builds a new context (loading the CA store, ~30 ms of CPU) for
    # every client otherwise, plain http:// included, which was half of order's CPU per placed order.
    return ssl.create_default_context()


def service_client(
    base_url: str,
    *,
    upstream: str | None = None,
    policy: UpstreamPolicy | None = None,
    timeout: float | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    metrics: UpstreamMetrics | None = None,
    tls: WorkloadTls | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for calling another service at ``base_url``, with ``policy``'s deadline,
    retries, breaker and bulkhead (``Service.client`` makes one with the service's settings and metrics).

    Args:
        base_url: where the other service answers, e.g. ``http://127.0.0.1:8101``.
        upstream: its name in logs, metrics and problems; the URL's host and port when omitted.
        policy: how to call it (``UpstreamPolicy``'s defaults when omitted).
        timeout: shorthand for ``policy.timeout_seconds``: a call's whole deadline, retries included.
        auth: how calls prove who makes them, e.g. this service's ``ClientCredentials``.
        transport: replaces the network, for tests (e.g. ``httpx.MockTransport``); still behind the policy.
        metrics: where the policy's counters go (a service's ``metrics.upstreams``).
        tls: this workload's certificate, presented to the callee, and the authority it trusts (``Service.tls``).
    """
    policy = policy or UpstreamPolicy()
    if timeout is not None:
        policy = policy.model_copy(update={"timeout_seconds": timeout})
    name = upstream or httpx.URL(base_url).netloc.decode()
    # As many kept connections as calls may be in flight: httpx keeps 20, and a busier client (the
    # bulkhead lets 32 through) made a new connection per call beyond them (bench/README.md, issue 13).
    in_flight = policy.bulkhead.max_concurrent
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    verify = tls.client if tls is not None else _tls()
    network = transport or httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    return httpx.AsyncClient(
        base_url=base_url,
        # The transport keeps the deadline (what is left of the request's, at most the policy's): httpx's
        # own bounds each connect, read and write, so it is set no shorter.
        timeout=httpx.Timeout(policy.timeout_seconds),
        auth=auth,
        transport=ResilientTransport(name, network, policy=policy, metrics=metrics),
        event_hooks={"request": [_propagate_ids]},
    )


class TokenUnavailableError(Exception):
    """The token issuer did not give this service a token (down, or its credentials are refused)."""


class ClientCredentials(httpx.Auth):
    """This service's own access token on every call (RFC 6749 client-credentials grant).

    One per process, shared by every client: a token is fetched once, reused until ``margin`` seconds
    before it expires, and fetched again once when a callee answers 401 (the issuer rotated keys).

    Args:
        token_url: the issuer's token endpoint, e.g. ``http://127.0.0.1:8102/oauth/token``.
        client_id: this service's client id.
        client_secret: its secret.
        scope: the scopes to ask for (space-separated); the issuer's default when omitted.
        timeout: the token request's deadline in seconds.
        transport: replaces the network, for tests.
        tls: this workload's certificate, for an issuer that serves mutual TLS.
    """

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        margin: float = 30.0,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        tls: WorkloadTls | None = None,
    ) -> None:
        self.tls = tls
        self.token_url = token_url
        self._credentials = (client_id, client_secret)
        self.scope = scope
        self.margin = margin
        self.timeout = timeout
        self.transport = transport
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._fetching = asyncio.Lock()  # many calls at once, one token request

    async def token(self, *, renew: bool = False) -> str:
        """A current access token; a new one if ``renew`` or the kept one is about to expire."""
        stale = self._token
        async with self._fetching:
            if self._token is not None and self._clock() < self._expires_at and not (renew and self._token == stale):
                return self._token
            form = {"grant_type": "client_credentials"} | ({"scope": self.scope} if self.scope else {})
            try:
                async with service_client(
                    self.token_url, timeout=self.timeout, transport=self.transport, tls=self.tls
                ) as client:
                    answer = await client.post(self.token_url, data=form, auth=httpx.BasicAuth(*self._credentials))
                answer.raise_for_status()
                body = answer.json()
                token, lifetime = str(body["access_token"]), float(body.get("expires_in", 60))
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise TokenUnavailableError(f"no access token from {self.token_url}: {exc!r}") from exc
            self._token, self._expires_at = token, self._clock() + max(lifetime - self.margin, 1.0)
            return token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {await self.token(renew=True)}"
            yield request


class ForwardedToken(httpx.Auth):
    """The access token of the request being served, sent on with each call: the callee sees whom the call is
    for, and serves only what is theirs (no confused deputy: the caller's own rights are not lent to anyone).

    Only a token that paved verified for this request is sent (``CurrentPrincipal`` keeps it, for the
    request's context). Outside such a request, e.g. in a message handler, there is none to send: the call
    is not made, and raises ``TokenUnavailableError``.
    """

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = context.access_token.get()
        if token is None:
            raise TokenUnavailableError(
                f"no verified access token to forward to {request.url.host}: this call acts for the caller of a "
                "request, and is made outside one"
            )
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def client_credentials(settings: ServiceSettings, *, tls: WorkloadTls | None = None) -> ClientCredentials | None:
    """The service's ``ClientCredentials`` from its settings (``PAVED_TOKEN_URL``, ``PAVED_CLIENT_ID``,
    ``PAVED_CLIENT_SECRET``), or None when it has none."""
    if not (settings.token_url and settings.client_id and settings.client_secret):
        return None
    return ClientCredentials(
        settings.token_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(),
        tls=tls,
    )
