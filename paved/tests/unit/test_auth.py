from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OctKey, OKPKey

from paved._auth import CurrentPrincipal, install_token_verifier, require_scopes
from paved._client import ForwardedToken, TokenUnavailableError, service_client
from paved._problems import install_problem_handlers
from paved._settings import ServiceSettings
from paved._tokens import (
    JwksUrl,
    KeysUnavailableError,
    Principal,
    TokenExpiredError,
    TokenRejectedError,
    TokenVerifier,
)

ISSUER = "http://identity.test"
AUDIENCE = "shop"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
START = 1_800_000_000.0


def es256_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)


class Clock:
    """Both clocks a verifier reads, moved by hand."""

    def __init__(self) -> None:
        self.wall = START
        self.monotonic = 0.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.monotonic += seconds


class Issuer:
    """An identity service reduced to its key set, served at JWKS_URL through httpx.MockTransport."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.keys: list[Key] = [es256_key()]
        self.fetches = 0
        self.status = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.fetches += 1
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "down"})
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in self.keys]})

    def sign(self, key: Key | None = None, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
        key = key or self.keys[-1]
        alg = "Ed25519" if isinstance(key, OKPKey) else "ES256"
        now = int(self.clock.wall)
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "acc_7",
            "scope": "customer",
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
        } | claims
        fields = {"alg": alg, "kid": key.kid, "typ": "at+jwt"} | (header or {})
        # A header field given as None is left out (a token without kid, say).
        fields = {name: value for name, value in fields.items() if value is not None}
        return jwt.encode(fields, body, key, algorithms=[alg])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer(clock: Clock) -> Issuer:
    return Issuer(clock)


@pytest.fixture
def verifier(issuer: Issuer, clock: Clock) -> TokenVerifier:
    return TokenVerifier(
        keys=JwksUrl(JWKS_URL, transport=httpx.MockTransport(issuer.handle)),
        issuer=ISSUER,
        audience=AUDIENCE,
        min_refresh_interval=10,
        leeway=0,
        clock=lambda: clock.monotonic,
        now=lambda: clock.wall,
    )


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    """A small app with one endpoint per dependency, verifying with ``verifier``."""
    app = FastAPI()
    install_problem_handlers(app)
    install_token_verifier(app, verifier)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, object]:
        return {"subject": principal.subject, "kind": principal.kind, "scopes": sorted(principal.scopes)}

    @app.post("/admin", dependencies=[require_scopes("admin")])
    async def admin() -> dict[str, str]:
        return {"done": "yes"}

    @app.get("/staff")
    async def staff(principal: Annotated[Principal, require_scopes("admin", "customer")]) -> dict[str, str]:
        return {"subject": principal.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unsigned(header: object, claims: dict[str, Any]) -> str:
    """A token with no signature (alg none, or garbage after the last dot): the header is taken as given."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.parametrize("key", [es256_key(), OKPKey.generate_key("Ed25519", auto_kid=True)], ids=["ES256", "Ed25519"])
async def test_a_valid_token_gives_its_principal_and_the_keys_are_fetched_once(
    issuer: Issuer, verifier: TokenVerifier, key: Key
) -> None:
    """A token signed with a published key verifies; later tokens use the cached key set, not the issuer."""
    issuer.keys = [key]
    principal = await verifier.verify(issuer.sign(sub="acc_42", scope="customer admin"))
    assert (principal.subject, principal.kind) == ("acc_42", "account")
    assert principal.scopes == {"customer", "admin"}
    assert principal.expires_at.timestamp() == START + 600
    for _ in range(5):
        await verifier.verify(issuer.sign())
    assert issuer.fetches == 1


async def test_a_client_acting_for_itself_is_a_client_principal(issuer: Issuer, verifier: TokenVerifier) -> None:
    """A client-credentials token (client_id equal to sub, RFC 9068) is of kind client, with its scopes."""
    principal = await verifier.verify(issuer.sign(sub="order", client_id="order", scope="catalog:read"))
    assert (principal.kind, principal.scopes) == ("client", frozenset({"catalog:read"}))


async def test_an_expired_token_is_refused(issuer: Issuer, verifier: TokenVerifier, clock: Clock) -> None:
    """A token past its exp is refused as expired, though its signature is good."""
    token = issuer.sign()
    clock.advance(601)
    with pytest.raises(TokenExpiredError):
        await verifier.verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-shop"},
        {"aud": ["another-shop", "reporting"]},
        {"iss": "http://impostor.test"},
        {"sub": ""},
        {"iat": START + 3600},
    ],
    ids=["audience", "audiences", "issuer", "blank subject", "issued in the future"],
)
async def test_a_token_for_someone_else_is_refused(
    issuer: Issuer, verifier: TokenVerifier, claims: dict[str, Any]
) -> None:
    """A well-signed token with the wrong audience or issuer, or nonsense claims, is refused."""
    with pytest.raises(TokenRejectedError):
        await verifier.verify(issuer.sign(**claims))


async def test_a_token_missing_a_required_claim_is_refused(issuer: Issuer, verifier: TokenVerifier) -> None:
    """Without exp a token would never expire, so its absence is a refusal, not a default."""
    key = issuer.keys[0]
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "acc_7", "iat": int(START)}
    token = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key, algorithms=["ES256"])
    with pytest.raises(TokenRejectedError, match="exp"):
        await verifier.verify(token)


async def test_an_unknown_key_id_refreshes_once_and_verifies_after_rotation(
    issuer: Issuer, verifier: TokenVerifier, clock: Clock
) -> None:
    """After the issuer rotates, the first token with the new kid fetches the key set once; then it verifies."""
    await verifier.verify(issuer.sign())
    clock.advance(60)
    issuer.keys.append(es256_key())
    rotated = issuer.sign()
    assert (await verifier.verify(rotated)).subject == "acc_7"
    await verifier.verify(rotated)
    await verifier.verify(issuer.sign(issuer.keys[0]))  # the previous key, still published, still verifies
    assert issuer.fetches == 2


async def test_concurrent_requests_with_a_new_key_share_one_fetch(issuer: Issuer, verifier: TokenVerifier) -> None:
    """Many requests arriving together with a key not yet held wait for one fetch of the key set."""
    tokens = [issuer.sign() for _ in range(20)]
    principals = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    assert len(principals) == 20
    assert issuer.fetches == 1


async def test_refreshing_is_rate_limited(issuer: Issuer, verifier: TokenVerifier, clock: Clock) -> None:
    """A flood of tokens with made-up key ids asks the issuer at most once per refresh interval."""
    await verifier.verify(issuer.sign())
    clock.advance(11)
    for _ in range(50):
        with pytest.raises(TokenRejectedError, match="does not publish"):
            await verifier.verify(issuer.sign(header={"kid": uuid.uuid4().hex}))
    assert issuer.fetches == 2
    issuer.keys.append(es256_key())
    rotated = issuer.sign()
    with pytest.raises(TokenRejectedError):  # still within the interval: not asked again
        await verifier.verify(rotated)
    clock.advance(10)
    assert (await verifier.verify(rotated)).subject == "acc_7"
    assert issuer.fetches == 3


async def test_a_key_the_issuer_stopped_publishing_is_dropped_on_refresh(
    issuer: Issuer, verifier: TokenVerifier, clock: Clock
) -> None:
    """The fetched set replaces the cached one: a retired key no longer verifies once a refresh happened."""
    retired = issuer.keys[0]
    old_token = issuer.sign(retired)
    await verifier.verify(old_token)
    clock.advance(11)
    issuer.keys = [es256_key()]
    await verifier.verify(issuer.sign())
    with pytest.raises(TokenRejectedError):
        await verifier.verify(old_token)


@pytest.mark.parametrize("alg", ["none", "HS256"])
async def test_unsigned_and_symmetric_tokens_are_refused(issuer: Issuer, verifier: TokenVerifier, alg: str) -> None:
    """alg none and HMAC (even keyed with the published public key) are refused before any key is used."""
    published = issuer.keys[0]
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "acc_1", "iat": int(START), "exp": int(START) + 600}
    header = {"alg": alg, "kid": published.kid, "typ": "at+jwt"}
    if alg == "none":
        token = unsigned(header, claims)
    else:
        secret = OctKey.import_key(json.dumps(published.as_dict(private=False)))
        token = jwt.encode(header, claims, secret, algorithms=["HS256"])
    with pytest.raises(TokenRejectedError, match="algorithm"):
        await verifier.verify(token)
    assert issuer.fetches == 0


async def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    """Naming a published key id does not help a forger: the signature is checked with the published key."""
    forger = es256_key()
    with pytest.raises(TokenRejectedError, match="bad_signature"):
        await verifier.verify(issuer.sign(forger, header={"kid": issuer.keys[0].kid}))


@pytest.mark.parametrize("header", [{"typ": "JWT"}, {"kid": None}], ids=["not an access token", "no key id"])
async def test_tokens_that_are_not_access_tokens_or_name_no_key_are_refused(
    issuer: Issuer, verifier: TokenVerifier, header: dict[str, Any]
) -> None:
    """An ID token or other JWT (typ not at+jwt) and a token without kid are refused."""
    with pytest.raises(TokenRejectedError):
        await verifier.verify(issuer.sign(header=header))


@pytest.mark.parametrize(
    "header",
    [["alg", "kid"], {"alg": ["ES256"], "typ": "at+jwt", "kid": "k"}, {"alg": "ES256", "typ": 1, "kid": {"k": 1}}],
    ids=["array", "alg is a list", "odd types"],
)
async def test_a_header_of_unexpected_json_is_refused_not_a_crash(
    issuer: Issuer, verifier: TokenVerifier, header: object
) -> None:
    """The header is the caller's JSON: arrays and wrongly typed members are refusals, never exceptions."""
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "acc_1", "iat": int(START), "exp": int(START) + 600}
    with pytest.raises(TokenRejectedError):
        await verifier.verify(unsigned(header, claims) + "c2ln")


def test_a_verifier_cannot_be_configured_to_accept_hmac(issuer: Issuer) -> None:
    """Only asymmetric algorithms can be allowed: a verifier that would accept HS256 is not built."""
    with pytest.raises(ValueError, match="HS256"):
        TokenVerifier(keys=JwksUrl(JWKS_URL), issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256", "HS256"])


async def test_an_unreachable_issuer_is_a_503_not_a_401(
    issuer: Issuer, client: httpx.AsyncClient, verifier: TokenVerifier
) -> None:
    """When the key set cannot be fetched, the token may be good: 503 with Retry-After, not 401."""
    issuer.status = 502
    response = await client.get("/me", headers=bearer(issuer.sign()))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "10"
    with pytest.raises(KeysUnavailableError):  # and the rate limit holds while it is down
        await verifier.verify(issuer.sign())
    assert issuer.fetches == 3, "one fetch (the client's three attempts at a 502), none for the second token"


async def test_the_current_principal_reaches_the_endpoint(issuer: Issuer, client: httpx.AsyncClient) -> None:
    """CurrentPrincipal hands the endpoint the verified subject, kind and scopes."""
    response = await client.get("/me", headers=bearer(issuer.sign(scope="customer")))
    assert response.json() == {"subject": "acc_7", "kind": "account", "scopes": ["customer"]}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"}], ids=["none", "basic", "empty"]
)
async def test_a_request_without_a_token_is_a_401_challenge(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """No bearer token: 401 problem with a plain Bearer challenge (no error code, as RFC 6750 asks)."""
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c"], ids=["garbage", "three garbage parts"])
async def test_a_malformed_token_is_a_401_invalid_token(client: httpx.AsyncClient, token: str) -> None:
    """A token that is not a JWT is answered 401 with error="invalid_token", never a server error."""
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_an_expired_token_is_a_401_that_says_so(issuer: Issuer, client: httpx.AsyncClient, clock: Clock) -> None:
    """An expired token's 401 says it expired, so the client knows to refresh rather than sign in again."""
    token = issuer.sign()
    clock.advance(3600)
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.headers["www-authenticate"] and "expired" in response.json()["detail"]


async def test_a_missing_scope_is_a_403(issuer: Issuer, client: httpx.AsyncClient) -> None:
    """A valid token without the scope is refused 403 with insufficient_scope; one with it passes."""
    refused = await client.post("/admin", headers=bearer(issuer.sign(scope="customer")))
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'
    assert "admin" in refused.json()["detail"]
    allowed = await client.post("/admin", headers=bearer(issuer.sign(scope="customer admin")))
    assert allowed.status_code == 200


async def test_every_required_scope_is_needed(issuer: Issuer, client: httpx.AsyncClient) -> None:
    """require_scopes with several scopes needs all of them, and hands the principal on."""
    assert (await client.get("/staff", headers=bearer(issuer.sign(scope="admin")))).status_code == 403
    both = await client.get("/staff", headers=bearer(issuer.sign(scope="admin customer")))
    assert both.json() == {"subject": "acc_7"}


def settings_app(settings: ServiceSettings) -> FastAPI:
    """An app whose verifier comes from its settings, as a paved Service's does."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.paved = SimpleNamespace(settings=settings, tls=None)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    return app


async def test_without_a_jwks_url_the_service_says_it_cannot_verify(issuer: Issuer) -> None:
    """A service without PAVED_JWKS_URL answers 500 naming the setting: its set-up is wrong, not the token."""
    app = settings_app(ServiceSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
        response = await http.get("/me", headers=bearer(issuer.sign()))
    assert response.status_code == 500
    assert "PAVED_JWKS_URL" in response.json()["detail"]


async def test_the_verifier_is_built_from_the_settings_once(issuer: Issuer) -> None:
    """With PAVED_JWKS_URL set, the first request builds the verifier that later requests share."""
    # Port 9 (discard) refuses connections at once: the fetch fails fast, and says so with a 503.
    settings = ServiceSettings(jwks_url="http://127.0.0.1:9/jwks.json", jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    app = settings_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
        first = await http.get("/me", headers=bearer(issuer.sign()))
        verifier = app.state.paved_token_verifier
        await http.get("/me", headers=bearer(issuer.sign()))
    assert first.status_code == 503
    assert app.state.paved_token_verifier is verifier
    assert verifier.source.url == "http://127.0.0.1:9/jwks.json"


async def test_a_call_made_for_the_caller_sends_on_the_token_its_request_was_verified_with(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    """ForwardedToken: each request's call downstream carries that request's own token (two at once do not
    mix), and a request whose token fails verification never reaches the call."""
    seen: list[str] = []

    def downstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    app = FastAPI()
    install_problem_handlers(app)
    install_token_verifier(app, verifier)
    callee = service_client("http://customer", auth=ForwardedToken(), transport=httpx.MockTransport(downstream))

    @app.get("/relay")
    async def relay(principal: CurrentPrincipal) -> dict[str, str]:
        await asyncio.sleep(0.01)  # the two requests overlap here
        await callee.get("/me/addresses/adr_1")
        return {"for": principal.subject}

    ann, bob = issuer.sign(sub="acc_ann"), issuer.sign(sub="acc_bob")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://order") as http:
        answers = await asyncio.gather(http.get("/relay", headers=bearer(ann)), http.get("/relay", headers=bearer(bob)))
        refused = await http.get("/relay", headers=bearer(ann[:-4] + "AAAA"))
    await callee.aclose()
    assert [a.json() for a in answers] == [{"for": "acc_ann"}, {"for": "acc_bob"}]
    assert sorted(seen) == sorted([f"Bearer {ann}", f"Bearer {bob}"])
    assert refused.status_code == 401


async def test_a_call_for_the_caller_outside_a_request_is_not_made() -> None:
    """With no verified token in hand (a message handler, a background task), nothing is sent at all."""
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    async with service_client("http://customer", auth=ForwardedToken(), transport=transport) as callee:
        with pytest.raises(TokenUnavailableError, match="no verified access token to forward to customer"):
            await callee.get("/me/addresses/adr_1")
    assert sent == []
