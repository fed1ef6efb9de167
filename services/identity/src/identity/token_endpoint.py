"""``POST /oauth/token``, as RFC 6749 has it: a form in, a token response or an OAuth error out.

Its errors are RFC 6749's JSON (``{"error": "invalid_grant", ...}``), not problem documents, because
OAuth clients read those; so the form is parsed here rather than by FastAPI, whose errors are problems.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from paved import callers

from identity.api import CurrentAuthority
from identity.contract import OAuthError, OAuthErrorCode, TokenRequest, TokenResponse
from identity.domain import (
    ClientAuthenticationError,
    IdentityError,
    InvalidScopeError,
    RefreshTokenRefusedError,
    WrongPasswordError,
)
from identity.use_cases import Authority, IssuedTokens

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 8 * 1024
# RFC 6749, section 5.1: token responses must not be cached anywhere.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# Each refusal of the use cases as the OAuth error a client understands: the one place they are mapped.
_OAUTH_ERRORS: dict[type[IdentityError], tuple[OAuthErrorCode, int]] = {  # most specific first
    WrongPasswordError: ("invalid_grant", 400),
    RefreshTokenRefusedError: ("invalid_grant", 400),
    InvalidScopeError: ("invalid_scope", 400),
    ClientAuthenticationError: ("invalid_client", 401),
}


class OAuthFailure(Exception):
    """A refusal to answer with RFC 6749's error JSON."""

    def __init__(
        self, error: OAuthErrorCode, description: str, *, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}

    def response(self) -> JSONResponse:
        body = OAuthError(error=self.error, error_description=self.description).model_dump()
        return JSONResponse(body, status_code=self.status, headers=NO_STORE | self.headers)


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str
    by_basic_auth: bool


async def _read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise OAuthFailure("invalid_request", f"send the parameters as {FORM}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise OAuthFailure("invalid_request", f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise OAuthFailure("invalid_request", "the form is not UTF-8 form encoding of at most 20 fields") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthFailure("invalid_request", f"{name} is given more than once")  # RFC 6749, section 3.2
        form[name] = value
    # RFC 6749, section 3.2: a parameter without a value is as if it were not sent.
    return {name: value for name, value in form.items() if value}


def _required(form: dict[str, str], name: str) -> str:
    if name not in form:
        raise OAuthFailure("invalid_request", f"{name} is missing")
    return form[name]


def _client_credentials(request: Request, form: dict[str, str]) -> ClientCredentials | None:
    """The client's id and secret, from HTTP Basic authentication or the form, not both (RFC 6749, 2.3.1)."""
    header = request.headers.get("authorization")
    in_form = "client_secret" in form
    if header is None:
        return ClientCredentials(_required(form, "client_id"), form["client_secret"], False) if in_form else None
    if in_form:
        raise OAuthFailure("invalid_request", "authenticate the client one way: Basic or the form, not both")
    scheme, _, encoded = header.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        client_id, colon, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        if not colon:
            raise ValueError("no colon")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OAuthFailure(
            "invalid_client", "send client credentials as HTTP Basic", status=401, headers={"WWW-Authenticate": "Basic"}
        ) from None
    # RFC 6749, section 2.3.1: id and secret are form-encoded before they are put in the header.
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret), True)


async def _grant(authority: Authority, form: dict[str, str], client: ClientCredentials | None) -> IssuedTokens:
    grant_type, scope = _required(form, "grant_type"), form.get("scope")
    if client is not None and grant_type != "client_credentials":
        # A client that authenticates must do so correctly, whatever it asks for.
        authority.verify_client(client_id=client.client_id, secret=client.secret)
    if grant_type == "password":
        email, password = _required(form, "username"), _required(form, "password")
        return await authority.sign_in(email=email, password=password, scope=scope)
    if grant_type == "refresh_token":
        return await authority.refresh(refresh_token=_required(form, "refresh_token"), scope=scope)
    if grant_type == "client_credentials":
        if client is None:
            raise OAuthFailure("invalid_client", "client_credentials needs the client's id and secret", status=401)
        return await authority.authenticate_client(client_id=client.client_id, secret=client.secret, scope=scope)
    raise OAuthFailure("unsupported_grant_type", "grant_type is password, client_credentials or refresh_token")


# Any workload of the shop may ask for tokens (the storefront for its customers, services for themselves,
# the operators' tools): the grant's credentials decide what it gets.
router = APIRouter(tags=["oauth"], dependencies=[callers(any_workload=True, operators=True)])


@router.post(
    "/oauth/token",
    summary="Get tokens: password, client_credentials or refresh_token grant (RFC 6749)",
    response_model=TokenResponse,
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
    openapi_extra={"requestBody": {"required": True, "content": {FORM: {"schema": TokenRequest.model_json_schema()}}}},
)
async def token(request: Request, authority: CurrentAuthority) -> JSONResponse:
    client: ClientCredentials | None = None
    try:
        form = await _read_form(request)
        client = _client_credentials(request, form)
        tokens = await _grant(authority, form, client)
    except OAuthFailure as failure:
        return failure.response()
    except tuple(_OAUTH_ERRORS) as refused:
        error, status = next(mapped for kind, mapped in _OAUTH_ERRORS.items() if isinstance(refused, kind))
        # RFC 6749, section 5.2: a client that tried Basic authentication is answered with its challenge.
        challenge = {"WWW-Authenticate": "Basic"} if status == 401 and client and client.by_basic_auth else None
        return OAuthFailure(error, str(refused), status=status, headers=challenge).response()
    body = TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        scope=" ".join(sorted(tokens.scopes)),
        refresh_token=tokens.refresh_token,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=NO_STORE)
