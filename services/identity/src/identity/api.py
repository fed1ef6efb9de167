"""identity's HTTP API besides the token endpoint: sign-up, the signed-in account, and the signing keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from paved import CurrentPrincipal, Problem, Provided, callers, require_scopes

from identity.contract import ADMIN_SCOPE, AccountOut, JsonWebKeySet, NewAccount, RotatedKey
from identity.domain import Account
from identity.use_cases import Authority

CurrentAuthority = Annotated[Authority, Provided(Authority)]
"""identity's use cases, for an endpoint's parameters."""


router = APIRouter()


def _out(account: Account) -> AccountOut:
    return AccountOut(id=account.id, email=account.email, role=account.role, created_at=account.created_at)


@router.post(
    "/accounts",
    dependencies=[callers("web-bff")],
    status_code=status.HTTP_201_CREATED,
    tags=["accounts"],
    summary="Sign up as a customer",
)
async def register(new: NewAccount, authority: CurrentAuthority) -> AccountOut:
    return _out(await authority.register(email=str(new.email), password=new.password))


@router.get(
    "/me", dependencies=[callers("web-bff")], tags=["accounts"], summary="The account the access token was issued to"
)
async def me(principal: CurrentPrincipal, authority: CurrentAuthority) -> AccountOut:
    if principal.kind != "account":
        raise Problem(403, "Forbidden", "a service client has no account: /me is for tokens issued to accounts")
    return _out(await authority.account(principal.subject))


# Every workload verifies tokens with these keys.
@router.get(
    "/.well-known/jwks.json",
    dependencies=[callers(any_workload=True, operators=True)],
    tags=["keys"],
    summary="The public keys that verify identity's tokens",
)
async def jwks(authority: CurrentAuthority) -> JsonWebKeySet:
    return JsonWebKeySet.model_validate(await authority.published_keys())


@router.post(
    "/keys/rotate",
    dependencies=[require_scopes(ADMIN_SCOPE), callers(operators=True)],
    tags=["keys"],
    summary="Sign with a new key from now on (admin); the previous key stays published",
)
async def rotate_keys(authority: CurrentAuthority) -> RotatedKey:
    return RotatedKey(kid=(await authority.rotate_keys()).kid)
