"""Signing keys and the access tokens signed with them (joserfc does the cryptography).

ES256 (ECDSA on P-256): every JOSE library in every language verifies it, so a service that does not use
paved can check identity's tokens too. EdDSA would be as safe and smaller, but its JOSE name is in flux
(RFC 9864 deprecates "EdDSA" for "Ed25519"), and verifiers disagree on which they accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from identity.domain import new_id

ALGORITHM = "ES256"
# RFC 9068: the header says this is an access token, so it cannot be passed off as another kind of JWT.
ACCESS_TOKEN_TYPE = "at+jwt"


@dataclass(frozen=True)
class SigningKey:
    """One of identity's key pairs. The private half never leaves identity's database."""

    kid: str
    algorithm: str
    private_jwk: dict[str, Any] = field(repr=False)
    created_at: datetime

    @classmethod
    def generate(cls, *, now: datetime) -> SigningKey:
        """A new P-256 key pair whose id is its RFC 7638 thumbprint."""
        key = ECKey.generate_key("P-256", parameters={"alg": ALGORITHM, "use": "sig"}, auto_kid=True)
        return cls(kid=str(key.kid), algorithm=ALGORITHM, private_jwk=dict(key.as_dict(private=True)), created_at=now)

    @cached_property
    def _key(self) -> ECKey:
        return ECKey.import_key(self.private_jwk)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, for the JWKS: kid, alg and use included."""
        return dict(self._key.as_dict(private=False))

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` as a compact JWS access token naming this key."""
        header = {"alg": self.algorithm, "kid": self.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(header, claims, self._key, algorithms=[self.algorithm])


def key_set(keys: list[SigningKey]) -> dict[str, Any]:
    """The JWKS document of ``keys``' public halves."""
    return {"keys": [key.public_jwk() for key in keys]}


def access_token_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    scopes: frozenset[str],
    now: datetime,
    lifetime: timedelta,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The claims of an access token (RFC 9068's profile): short-lived, for one audience, with its scopes."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "scope": " ".join(sorted(scopes)),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": new_id("at"),
    }
    if client_id is not None:
        claims["client_id"] = client_id
    return claims
