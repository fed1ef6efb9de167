"""What identity promises the storefront and the other services: its HTTP models and token format.

Access tokens are JWTs (RFC 9068): header ``typ`` ``at+jwt``, ``alg`` ES256, ``kid`` naming a key of
``GET /.well-known/jwks.json``; claims ``iss``, ``aud``, ``sub`` (an account id, or a service client's id),
``scope`` (space-separated), ``iat``, ``exp`` and ``jti``, and ``client_id`` on a client's own tokens.
Verify them with ``paved.TokenVerifier`` (or any JOSE library), never by calling identity.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from identity.domain import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Role

CUSTOMER_SCOPE = "customer"
ADMIN_SCOPE = "admin"

GrantType = Literal["password", "client_credentials", "refresh_token"]
OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
]


class NewAccount(BaseModel):
    """A customer signing up."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320, examples=["ann@example.com"])
    password: Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class AccountOut(BaseModel):
    """An account as others may see it: never its password hash."""

    id: str = Field(description="opaque; the `sub` of the account's access tokens")
    email: str
    role: Role
    created_at: datetime


class TokenRequest(BaseModel):
    """The token endpoint's form fields (``application/x-www-form-urlencoded``, RFC 6749)."""

    grant_type: GrantType
    username: str | None = Field(default=None, description="password grant: the account's email address")
    password: str | None = Field(default=None, description="password grant")
    refresh_token: str | None = Field(default=None, description="refresh_token grant")
    scope: str | None = Field(default=None, description="space-separated; all the account may have when left out")
    client_id: str | None = Field(default=None, description="client_credentials (or HTTP Basic authentication)")
    client_secret: str | None = Field(default=None, description="client_credentials (or HTTP Basic authentication)")


class TokenResponse(BaseModel):
    """A successful grant (RFC 6749, section 5.1)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    scope: str
    refresh_token: str | None = Field(default=None, description="for accounts only; use it once")


class OAuthError(BaseModel):
    """A refused grant (RFC 6749, section 5.2): the token endpoint answers these, not problem documents."""

    error: OAuthErrorCode
    error_description: str | None = None


class JsonWebKeySet(BaseModel):
    """The public keys that verify identity's tokens: the current one and the one before it."""

    keys: list[dict[str, Any]]


class RotatedKey(BaseModel):
    kid: str = Field(description="the key that signs tokens from now on")
