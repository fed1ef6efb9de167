"""Who may call an endpoint: access tokens (JWTs) from the identity service.

Endpoints take ``CurrentPrincipal`` (any valid access token) or ``require_scopes(...)`` (a token that
grants those scopes). Tokens are verified in the process (:mod:`paved._tokens`) against the issuer's key
set at ``PAVED_JWKS_URL``; nothing is asked of the issuer per request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paved import _context as context
from paved._problems import Problem
from paved._tokens import (
    JwksUrl,
    KeysUnavailableError,
    Principal,
    TokenExpiredError,
    TokenRejectedError,
    TokenVerifier,
)

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_access_token = HTTPBearer(
    auto_error=False, scheme_name="AccessToken", description="An access token (JWT) from the identity service"
)
_VERIFIER = "paved_token_verifier"


def install_token_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Verify ``app``'s access tokens with ``verifier`` instead of one built from the settings.

    The identity service uses it to verify against its own key store; tests, with their own keys.
    """
    setattr(app.state, _VERIFIER, verifier)


def _token_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier | None = getattr(request.app.state, _VERIFIER, None)
    if verifier is not None:
        return verifier
    service = request.app.state.paved
    settings = service.settings
    if settings.jwks_url is None:
        # The service's set-up is wrong, not the caller's token: not a 401.
        raise Problem(500, "Internal Server Error", "this service cannot verify tokens: PAVED_JWKS_URL is not set")
    # Built on first use and kept: the key set it caches is shared by every request of the process.
    verifier = TokenVerifier(
        keys=JwksUrl(settings.jwks_url, tls=service.tls), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    install_token_verifier(request.app, verifier)
    return verifier


def _invalid_token(description: str) -> dict[str, str]:
    # RFC 6750, section 3: the challenge says why, so a client knows to get a new token.
    return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_access_token)],
) -> Principal:
    """The principal the request's access token speaks for; 401 without a valid one."""
    if credentials is None:
        raise Problem(401, "Unauthorized", "send 'Authorization: Bearer <access token>'", headers=_CHALLENGE)
    verifier = _token_verifier(request)
    try:
        principal = await verifier.verify(credentials.credentials)
    except TokenExpiredError:
        raise Problem(
            401, "Unauthorized", "the access token has expired", headers=_invalid_token("the token has expired")
        ) from None
    except TokenRejectedError as exc:
        raise Problem(401, "Unauthorized", str(exc), headers=_invalid_token("the token is not valid")) from None
    except KeysUnavailableError:
        raise Problem(
            503,
            "Service Unavailable",
            "the token issuer's keys cannot be fetched now, so the token cannot be checked",
            headers={"Retry-After": str(max(1, round(verifier.min_refresh_interval)))},
        ) from None
    context.access_token.set(credentials.credentials)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""Who is calling, from a verified access token: for an endpoint's parameters."""


def require_scopes(*scopes: str) -> Any:
    """A dependency that lets a request through only if its token grants every one of ``scopes``.

    Use it in ``dependencies=[require_scopes("admin")]``, or as ``Annotated[Principal, require_scopes(...)]``
    to have the principal too. Without a valid token: 401; with one that lacks a scope: 403.
    """
    needed = " ".join(scopes)

    async def check_scopes(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scopes(*scopes):
            raise Problem(
                403,
                "Forbidden",
                f"the access token does not grant the scope(s) this needs: {needed}",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
            )
        return principal

    return Depends(check_scopes)
