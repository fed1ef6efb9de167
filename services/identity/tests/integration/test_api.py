from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from joserfc import jws
from paved import JwksUrl, TokenRejectedError, TokenVerifier
from sqlalchemy import select

from identity.tables import refresh_tokens

from .values import ADMIN_EMAIL, ADMIN_PASSWORD, AUDIENCE, ISSUER, ORDER_SECRET, Running

ANN = {"email": "ann@example.com", "password": "ann's long enough password"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def sign_in(client: httpx.AsyncClient, email: str, password: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "password", "username": email, "password": password, **extra}
    return await client.post("/oauth/token", data=form)


def refresh(tokens: dict[str, str]) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def kid_of(token: str) -> str:
    return str(jws.extract_compact(token.encode()).headers()["kid"])


async def test_a_customer_signs_up_signs_in_and_sees_their_account(client: httpx.AsyncClient) -> None:
    """Register (201), password grant (tokens, not cacheable), then /me with the access token is that account."""
    created = await client.post("/accounts", json=ANN)
    assert created.status_code == 201
    account = created.json()
    assert (account["email"], account["role"]) == ("ann@example.com", "customer") and "password" not in str(account)
    tokens = await sign_in(client, "Ann@Example.com", ANN["password"])
    assert tokens.status_code == 200
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "customer")
    me = await client.get("/me", headers=bearer(body["access_token"]))
    assert me.json() == account


async def test_an_email_address_registers_once(client: httpx.AsyncClient) -> None:
    """A second sign-up with a taken address, in any case, is a 409 problem."""
    await client.post("/accounts", json=ANN)
    again = await client.post("/accounts", json={**ANN, "email": "ANN@example.com"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["title"] == "Email address already registered"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an address", "password": ANN["password"]}, "body.email"),
        ({"email": "ann@example.com", "password": "short"}, "body.password"),
        ({"email": "ann@example.com", "password": 123456789012345}, "body.password"),
        ({"email": "ann@example.com", "password": "Ann@Example.com"}, "body.password"),
        ({"email": "ann@example.com"}, "body.password"),
        ({**ANN, "role": "admin"}, "body.role"),
    ],
    ids=["bad email", "short password", "number", "password is the email", "no password", "asks for a role"],
)
async def test_malformed_sign_ups_are_422_problems_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    """Each bad sign-up names its field in the problem's errors, whether the schema or a rule refused it."""
    response = await client.post("/accounts", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("email", "password"), [(ANN["email"], "a wrong password!"), ("nobody@example.com", ANN["password"])]
)
async def test_a_wrong_password_or_unknown_email_is_invalid_grant(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    """Both are RFC 6749 invalid_grant (400), with the same description: which was wrong is not told."""
    await client.post("/accounts", json=ANN)
    response = await sign_in(client, email, password)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "the email address and password do not match",
    }


async def test_refresh_tokens_rotate_and_a_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    """Each refresh returns a new refresh token; presenting a used one fails and revokes its successor too."""
    await client.post("/accounts", json=ANN)
    first = (await sign_in(client, ANN["email"], ANN["password"])).json()
    refreshed = await client.post("/oauth/token", data=refresh(first))
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/me", headers=bearer(second["access_token"]))).status_code == 200
    reused = await client.post("/oauth/token", data=refresh(first))
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    successor = await client.post("/oauth/token", data=refresh(second))
    assert (successor.status_code, successor.json()["error"]) == (400, "invalid_grant")
    assert "revoked" in successor.json()["error_description"]


async def test_refresh_tokens_are_stored_only_as_hashes(running: Running) -> None:
    """The database holds the SHA-256 of each refresh token, never the token a client could replay."""
    async with running() as (service, client):
        await client.post("/accounts", json=ANN)
        token = (await sign_in(client, ANN["email"], ANN["password"])).json()["refresh_token"]
        async with service.database.read() as session:
            stored = list((await session.execute(select(refresh_tokens.c.token_hash))).scalars())
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


@pytest.mark.parametrize("how", ["basic", "form"])
async def test_a_service_client_gets_a_token_with_client_credentials(client: httpx.AsyncClient, how: str) -> None:
    """client_credentials by HTTP Basic or by form fields gives an access token of the client's scopes, no refresh."""
    form = {"grant_type": "client_credentials", "scope": "catalog:read"}
    if how == "basic":
        response = await client.post("/oauth/token", data=form, headers=basic("order", ORDER_SECRET))
    else:
        response = await client.post("/oauth/token", data=form | {"client_id": "order", "client_secret": ORDER_SECRET})
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "catalog:read" and "refresh_token" not in body
    # A client has no account: /me is refused, though the token is valid.
    assert (await client.get("/me", headers=bearer(body["access_token"]))).status_code == 403


async def test_a_wrong_client_secret_is_invalid_client_with_a_basic_challenge(client: httpx.AsyncClient) -> None:
    """A bad secret over Basic is 401 invalid_client with WWW-Authenticate: Basic (RFC 6749, 5.2)."""
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("order", "not-the-secret-at-all")
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.headers["www-authenticate"] == "Basic"


async def test_a_client_cannot_ask_for_a_scope_it_was_not_given(client: httpx.AsyncClient) -> None:
    """Asking for more than the client's configured scopes is invalid_scope."""
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers=basic("order", ORDER_SECRET),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("request_kwargs", "error"),
    [
        ({"data": {"username": "ann@example.com"}}, "invalid_request"),
        ({"data": {"grant_type": "authorization_code", "code": "x"}}, "unsupported_grant_type"),
        ({"data": {"grant_type": "password", "username": "ann@example.com"}}, "invalid_request"),
        ({"data": {"grant_type": "refresh_token"}}, "invalid_request"),
        ({"json": {"grant_type": "password", "username": "a", "password": "b"}}, "invalid_request"),
        ({"content": b"grant_type=password&grant_type=refresh_token", "headers": FORM}, "invalid_request"),
        ({"content": b"grant_type=\xff", "headers": FORM}, "invalid_request"),
    ],
    ids=["no grant_type", "unsupported grant", "no password", "no refresh_token", "json", "repeated", "not utf-8"],
)
async def test_malformed_token_requests_get_oauth_errors(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any], error: str
) -> None:
    """The token endpoint answers malformed requests with RFC 6749 error JSON, not problems or server errors."""
    response = await client.post("/oauth/token", **request_kwargs)
    assert response.status_code == 400
    assert response.json()["error"] == error and response.json()["error_description"]


async def test_issued_tokens_verify_against_the_published_key_set(running: Running) -> None:
    """Another service's paved verifier, fetching identity's JWKS over HTTP, accepts identity's tokens."""
    async with running() as (service, client):
        await client.post("/accounts", json=ANN)
        token = (await sign_in(client, ANN["email"], ANN["password"])).json()["access_token"]
        jwks = (await client.get("/.well-known/jwks.json")).json()
        verifier = TokenVerifier(
            keys=JwksUrl(f"{ISSUER}/.well-known/jwks.json", transport=httpx.ASGITransport(app=service.app)),
            issuer=ISSUER,
            audience=AUDIENCE,
        )
        principal = await verifier.verify(token)
    assert [key["kid"] for key in jwks["keys"]] == [kid_of(token)]
    assert {"d", "p", "q"}.isdisjoint(jwks["keys"][0])  # public half only
    assert (principal.kind, principal.scopes) == ("account", {"customer"})
    other_audience = TokenVerifier(keys=verifier.source, issuer=ISSUER, audience="another-shop")
    with pytest.raises(TokenRejectedError):
        await other_audience.verify(token)


async def test_rotation_keeps_tokens_signed_before_it_verifiable(client: httpx.AsyncClient) -> None:
    """An admin rotates: new tokens name the new key, old tokens still verify, and the JWKS lists both."""
    admin = (await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()["access_token"]
    rotated = await client.post("/keys/rotate", headers=bearer(admin))
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    assert new_kid != kid_of(admin)
    after = (await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()["access_token"]
    assert kid_of(after) == new_kid
    for token in (admin, after):
        assert (await client.get("/me", headers=bearer(token))).json()["role"] == "admin"
    published = [key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]]
    assert published == [new_kid, kid_of(admin)]


@pytest.mark.parametrize(("who", "status"), [("nobody", 401), ("customer", 403)])
async def test_only_an_admin_rotates_keys(client: httpx.AsyncClient, who: str, status: int) -> None:
    """Rotation without a token is 401, with a customer's token 403; the key set stays as it was."""
    before = (await client.get("/.well-known/jwks.json")).json()
    headers = {}
    if who == "customer":
        await client.post("/accounts", json=ANN)
        headers = bearer((await sign_in(client, ANN["email"], ANN["password"])).json()["access_token"])
    response = await client.post("/keys/rotate", headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/.well-known/jwks.json")).json() == before


async def test_signing_keys_survive_a_restart(running: Running) -> None:
    """The key made at first start is stored: after a restart the same key signs, and earlier tokens verify."""
    async with running() as (_, client):
        token = (await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()["access_token"]
        before = (await client.get("/.well-known/jwks.json")).json()
    async with running() as (_, client):
        assert (await client.get("/.well-known/jwks.json")).json() == before
        assert (await client.get("/me", headers=bearer(token))).status_code == 200
        again = (await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()["access_token"]
    assert kid_of(again) == kid_of(token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_me_without_a_valid_token_is_a_401_problem(client: httpx.AsyncClient, token: str) -> None:
    """No token or a malformed one: 401 problem with a Bearer challenge."""
    response = await client.get("/me", headers=bearer(token) if token else {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_openapi_document_describes_the_token_form_and_bearer_tokens(client: httpx.AsyncClient) -> None:
    """The token endpoint documents its form fields, and token-protected endpoints the bearer scheme."""
    document = (await client.get("/openapi.json")).json()
    form = document["paths"]["/oauth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"]["properties"]["grant_type"]["enum"] == ["password", "client_credentials", "refresh_token"]
    assert document["paths"]["/keys/rotate"]["post"]["security"] == [{"AccessToken": []}]
