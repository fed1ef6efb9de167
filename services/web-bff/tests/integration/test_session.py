from __future__ import annotations

from urllib.parse import parse_qs

import httpx

from .musiccorp import ANN_EMAIL, ANN_PASSWORD, MusicCorp


async def test_registering_makes_an_account_at_identity(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """Sign-up goes to identity's POST /accounts, and the new account comes back with 201."""
    response = await client.post("/api/register", json={"email": "cy@example.com", "password": "twelve chars at least"})
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "cy@example.com"
    [sent] = musiccorp.identity.seen
    assert sent.json == {"email": "cy@example.com", "password": "twelve chars at least"}


async def test_registering_an_email_twice_is_identitys_409_passed_through(client: httpx.AsyncClient) -> None:
    """identity's refusal reaches the page with its status, title and detail, naming identity."""
    response = await client.post("/api/register", json={"email": ANN_EMAIL, "password": "twelve chars at least"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Email address already registered"
    assert problem["detail"] == f"{ANN_EMAIL} already has an account"
    assert problem["service"] == "identity"


async def test_signing_in_gets_identitys_tokens_by_the_password_grant(
    client: httpx.AsyncClient, musiccorp: MusicCorp
) -> None:
    """Sign-in is the OAuth2 password grant at identity; the tokens come back, never to be cached."""
    response = await client.post("/api/sign-in", json={"email": ANN_EMAIL, "password": ANN_PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["access_token"] and tokens["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    [sent] = musiccorp.identity.seen
    assert sent.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.request.content.decode()) == {
        "grant_type": ["password"],
        "username": [ANN_EMAIL],
        "password": [ANN_PASSWORD],
    }


async def test_the_tokens_of_a_sign_in_open_the_customers_pages(client: httpx.AsyncClient) -> None:
    """The access token identity gave is the bearer the BFF accepts for the signed-in customer."""
    tokens = (await client.post("/api/sign-in", json={"email": ANN_EMAIL, "password": ANN_PASSWORD})).json()
    response = await client.get("/api/account", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200, response.text
    assert response.json()["profile"]["data"]["display_name"] == "Ann Smith"


async def test_a_wrong_password_is_identitys_oauth_error_as_a_problem(client: httpx.AsyncClient) -> None:
    """identity's RFC 6749 error becomes a problem with its description as the detail and its code kept."""
    response = await client.post("/api/sign-in", json={"email": ANN_EMAIL, "password": "not the password"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == "the email address and password do not match"
    assert (problem["error"], problem["service"]) == ("invalid_grant", "identity")
    assert "error_description" not in problem


async def test_a_refresh_token_is_exchanged_once(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """Refresh is identity's refresh_token grant: new tokens the first time, identity's refusal the second."""
    tokens = (await client.post("/api/sign-in", json={"email": ANN_EMAIL, "password": ANN_PASSWORD})).json()
    first = await client.post("/api/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200, first.text
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    assert first.headers["cache-control"] == "no-store"
    again = await client.post("/api/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert parse_qs(musiccorp.identity.seen[1].request.content.decode())["grant_type"] == ["refresh_token"]


async def test_sign_in_is_unavailable_when_identity_is(client: httpx.AsyncClient, musiccorp: MusicCorp) -> None:
    """identity down is a 503 naming identity: the page can say signing in is not possible now."""
    musiccorp.identity.down = True
    response = await client.post("/api/sign-in", json={"email": ANN_EMAIL, "password": ANN_PASSWORD})
    assert response.status_code == 503
    assert response.json()["service"] == "identity"
