"""Signing up and in: the storefront's calls to identity, shaped for its sign-in form."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from web_bff.caller import CurrentDownstreams
from web_bff.contract import AccountCreated, Refresh, Registration, SignIn, Tokens
from web_bff.partners import IdentityAccount, IdentityTokens

router = APIRouter(tags=["session"])

# RFC 6749, section 5.1: token responses must not be cached anywhere, and the BFF passes them on.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _tokens(tokens: IdentityTokens, response: Response) -> Tokens:
    response.headers.update(NO_STORE)
    return Tokens(
        access_token=tokens.access_token,
        token_type=tokens.token_type,
        expires_in=tokens.expires_in,
        scope=tokens.scope,
        refresh_token=tokens.refresh_token,
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Sign up: an account at identity")
async def register(registration: Registration, downstreams: CurrentDownstreams) -> AccountCreated:
    answer = await downstreams.identity.send(
        "POST",
        "/accounts",
        json={"email": str(registration.email), "password": registration.password},
        read=IdentityAccount,
    )
    account = answer.body
    return AccountCreated(id=account.id, email=account.email, created_at=account.created_at)


@router.post("/sign-in", summary="Sign in with email and password: the access and refresh tokens")
async def sign_in(credentials: SignIn, downstreams: CurrentDownstreams, response: Response) -> Tokens:
    form = {"grant_type": "password", "username": credentials.email, "password": credentials.password}
    answer = await downstreams.identity.send("POST", "/oauth/token", data=form, read=IdentityTokens)
    return _tokens(answer.body, response)


@router.post("/refresh", summary="New tokens for a refresh token (each refresh token is good once)")
async def refresh(request: Refresh, downstreams: CurrentDownstreams, response: Response) -> Tokens:
    form = {"grant_type": "refresh_token", "refresh_token": request.refresh_token}
    answer = await downstreams.identity.send("POST", "/oauth/token", data=form, read=IdentityTokens)
    return _tokens(answer.body, response)
