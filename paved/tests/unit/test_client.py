from __future__ import annotations

import asyncio

import httpx
import pytest

from paved import _context as context
from paved._client import ClientCredentials, TokenUnavailableError, service_client


async def test_outbound_calls_carry_the_correlation_id_and_have_a_deadline() -> None:
    """A call made while serving a request carries its correlation id on, with a timeout always set."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    token = context.correlation_id.set("order-7")
    try:
        async with service_client("http://catalog", timeout=1.5, transport=httpx.MockTransport(record)) as client:
            await client.get("/albums")
            assert client.timeout.read == 1.5
    finally:
        context.correlation_id.reset(token)
    assert seen[0].headers["x-correlation-id"] == "order-7"


async def test_calls_outside_a_request_add_no_ids() -> None:
    """With no current request there is nothing to propagate, and nothing is invented."""
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204))
    async with service_client("http://catalog", transport=transport) as client:
        await client.get("/albums")
    assert "x-correlation-id" not in seen[0].headers


class Issuer:
    """A token endpoint and a callee in one MockTransport: counts token requests, accepts current tokens."""

    def __init__(self) -> None:
        self.issued = 0
        self.valid: set[str] = set()
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if self.down:
                return httpx.Response(503)
            assert request.headers["authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in request.content
            self.issued += 1
            token = f"token-{self.issued}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 600})
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if bearer in self.valid else 401, json={"token": bearer})


def credentials(issuer: Issuer, clock: list[float]) -> ClientCredentials:
    return ClientCredentials(
        "http://identity/oauth/token",
        client_id="order",
        client_secret="s3cret-s3cret-s3cret",
        transport=httpx.MockTransport(issuer.handle),
        clock=lambda: clock[0],
    )


async def test_client_credentials_fetch_one_token_for_many_concurrent_calls() -> None:
    """Twenty calls at once share one token request; the token rides on each call."""
    issuer = Issuer()
    auth = credentials(issuer, [0.0])
    async with service_client("http://catalog", auth=auth, transport=httpx.MockTransport(issuer.handle)) as client:
        answers = await asyncio.gather(*(client.get("/albums") for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert issuer.issued == 1


async def test_client_credentials_renew_before_expiry_and_after_a_401() -> None:
    """A token near its expiry is replaced; one the callee refuses is replaced once and the call retried."""
    issuer = Issuer()
    clock = [0.0]
    auth = credentials(issuer, clock)
    async with service_client("http://catalog", auth=auth, transport=httpx.MockTransport(issuer.handle)) as client:
        await client.get("/albums")
        clock[0] = 600 - 29  # within the 30 s margin
        assert (await client.get("/albums")).json()["token"] == "token-2"
        issuer.valid.clear()  # e.g. the issuer rotated its keys
        answer = await client.get("/albums")
    assert answer.status_code == 200 and answer.json()["token"] == "token-3"


async def test_an_unavailable_issuer_is_a_clear_error() -> None:
    """When the issuer cannot give a token the call fails with TokenUnavailableError naming the issuer."""
    issuer = Issuer()
    issuer.down = True
    auth = credentials(issuer, [0.0])
    async with service_client("http://catalog", auth=auth, transport=httpx.MockTransport(issuer.handle)) as client:
        with pytest.raises(TokenUnavailableError, match="http://identity/oauth/token"):
            await client.get("/albums")


async def test_clients_share_one_tls_context_instead_of_loading_the_ca_store_each_time(monkeypatch) -> None:
    """A client per call must not cost a new TLS context (the CA store read again) per call."""
    import ssl

    from paved import _client as client_module

    made = []
    real = ssl.create_default_context

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    client_module._tls.cache_clear()
    monkeypatch.setattr(ssl, "create_default_context", counting)
    for _ in range(5):
        async with service_client("http://127.0.0.1:1"):
            pass
    assert len(made) == 1
    client_module._tls.cache_clear()
