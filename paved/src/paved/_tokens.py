"""Access tokens verified where they arrive: JWTs checked against the issuer's published keys (JWKS).

A service verifies every token locally: signature, algorithm, type, expiry, issuer and audience. It asks
the issuer for its key set once, and again only when a token names a key it does not hold (the issuer
rotated its keys), and then at most once per ``min_refresh_interval``, so that tokens with made-up key ids
cannot turn into a flood of requests to the issuer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jwt import JWTClaimsRegistry

from paved._client import service_client
from paved._tls import WorkloadTls

# Asymmetric signatures only: a verifier holds no secret, and "none" or HMAC ("HS256" with the public key
# as the secret) are the classic forgeries. "Ed25519" is RFC 9864's name for EdDSA over Ed25519.
SIGNING_ALGORITHMS: frozenset[str] = frozenset({"ES256", "EdDSA", "Ed25519"})
# RFC 9068, section 4: an access token says it is one, so an ID token or another JWT is not taken for it.
ACCESS_TOKEN_TYPES: frozenset[str] = frozenset({"at+jwt", "application/at+jwt"})

PrincipalKind = Literal["account", "client"]


class TokenRejectedError(Exception):
    """The token is missing, malformed, forged, expired or meant for someone else (answer 401)."""


class TokenExpiredError(TokenRejectedError):
    """The token was good, and its time is up: the caller should get a new one."""


class KeysUnavailableError(Exception):
    """The issuer's key set could not be fetched, so a token that may be good cannot be checked (503)."""


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for.

    Attributes:
        subject: the account's or client's id (``sub``), an opaque string.
        kind: ``"account"`` for a person's account, ``"client"`` for a service acting as itself
            (its token's ``client_id`` is its ``sub``, as RFC 9068 has it).
        scopes: what the token allows (``scope``, space-separated in the token).
        token_id: the token's own id (``jti``), for logs and revocation lists.
        expires_at: when the token stops being accepted.
    """

    subject: str
    kind: PrincipalKind
    scopes: frozenset[str]
    token_id: str | None
    expires_at: datetime

    def has_scopes(self, *required: str) -> bool:
        """Whether the token grants every one of ``required``."""
        return set(required) <= self.scopes


class KeySource(Protocol):
    """Where a verifier gets the issuer's public keys: a JWKS document (``{"keys": [...]}``)."""

    async def fetch(self) -> Mapping[str, Any]:
        """The current key set; raises :class:`KeysUnavailableError` when it cannot be had."""
        ...


class JwksUrl:
    """The issuer's key set at a URL, fetched through paved's client (so with a deadline).

    Args:
        url: e.g. ``http://127.0.0.1:8102/.well-known/jwks.json``.
        timeout: the fetch's deadline in seconds.
        transport: replaces the network, for tests.
        tls: this workload's certificate, for an issuer that serves mutual TLS (``Service.tls``).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: WorkloadTls | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.transport = transport
        self.tls = tls

    async def fetch(self) -> Mapping[str, Any]:
        """GET the key set; any failure (network, status, body) is :class:`KeysUnavailableError`."""
        # A client per fetch: fetches are rare (start, rotation), and nothing is left open to close.
        try:
            async with service_client(self.url, timeout=self.timeout, transport=self.transport, tls=self.tls) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise KeysUnavailableError(f"cannot fetch the key set from {self.url}: {exc!r}") from exc
        if not isinstance(document, dict):
            raise KeysUnavailableError(f"{self.url} answered with JSON that is not a key set")
        return document


def _import_keys(document: Mapping[str, Any]) -> dict[str, Key]:
    """The usable signing keys of a JWKS document, by key id; keys without an id cannot be picked."""
    try:
        key_set = KeySet.import_key_set({"keys": list(document["keys"])})
    except (JoseError, KeyError, TypeError, ValueError) as exc:
        raise KeysUnavailableError(f"the key set cannot be read: {exc!r}") from exc
    return {str(key.kid): key for key in key_set if key.get("kid")}


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise TokenRejectedError("the token's scope is not a space-separated string")
    return frozenset(scope.split())


class TokenVerifier:
    """Verifies access tokens against a cached key set; one per process, shared by every request.

    Args:
        keys: where the issuer's public keys come from (:class:`JwksUrl`, or the issuer's own store).
        issuer: the ``iss`` every token must carry.
        audience: a value every token's ``aud`` must contain.
        algorithms: the signature algorithms accepted, a subset of :data:`SIGNING_ALGORITHMS`.
        min_refresh_interval: seconds between two fetches of the key set at least.
        leeway: seconds of clock skew tolerated on ``exp`` and ``iat``.
        clock: a monotonic clock (for the refresh interval); tests pass their own.
        now: the wall clock in seconds since the epoch (for ``exp``); tests pass their own.
    """

    def __init__(
        self,
        *,
        keys: KeySource,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = SIGNING_ALGORITHMS,
        min_refresh_interval: float = 10.0,
        leeway: int = 30,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        refused = set(algorithms) - SIGNING_ALGORITHMS
        if refused:
            raise ValueError(f"not an asymmetric signature algorithm paved accepts: {sorted(refused)}")
        self.source = keys
        self.algorithms = frozenset(algorithms)
        self.min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._claims = JWTClaimsRegistry(
            now=lambda: int(now()),
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        self._keys: dict[str, Key] = {}
        self._last_fetch: float | None = None
        # One fetch at a time: many requests with the same new key id wait for one fetch, not one each.
        self._fetching = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` speaks for.

        Raises:
            TokenRejectedError: the token is not one to accept (``TokenExpiredError`` if only its time is up).
            KeysUnavailableError: the key needed could not be fetched.
        """
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, UnicodeError) as exc:
            raise TokenRejectedError("the token is not a signed JWT") from exc
        if not isinstance(header, dict):  # the header is attacker's JSON: it may be any JSON at all
            raise TokenRejectedError("the token's header is not a JSON object")
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise TokenRejectedError(f"the token's algorithm {algorithm!r} is not accepted")
        if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise TokenRejectedError("the token is not an access token (typ at+jwt)")
        if not isinstance(kid, str) or not kid:
            raise TokenRejectedError("the token names no signing key (kid)")
        key = await self._key(kid)
        if key.get("alg") not in (None, algorithm):
            raise TokenRejectedError("the token's algorithm is not its key's")
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm]).claims
            self._claims.validate(claims)
        except ExpiredTokenError as exc:
            raise TokenExpiredError("the token has expired") from exc
        except JoseError as exc:
            reason = f"{exc.error}: {exc.description}" if exc.description else exc.error
            raise TokenRejectedError(f"the token is not valid ({reason})") from exc
        try:
            expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise TokenRejectedError("the token's expiry is not a time") from exc
        jti = claims.get("jti")
        return Principal(
            subject=claims["sub"],
            # RFC 9068, section 2.2: a client acting for itself (client credentials) is its own subject.
            kind="client" if claims.get("client_id") == claims["sub"] else "account",
            scopes=_scopes(claims),
            token_id=jti if isinstance(jti, str) else None,
            expires_at=expires_at,
        )

    async def _key(self, kid: str) -> Key:
        if (key := self._keys.get(kid)) is not None:
            return key
        async with self._fetching:
            if (key := self._keys.get(kid)) is not None:  # fetched while this request waited
                return key
            now = self._clock()
            if self._last_fetch is not None and now - self._last_fetch < self.min_refresh_interval:
                if not self._keys:
                    raise KeysUnavailableError("the key set could not be fetched; the next try is rate-limited")
                raise TokenRejectedError("the token is signed with a key the issuer does not publish")
            # Counted before the fetch: a failing issuer is not asked more often than a healthy one.
            self._last_fetch = now
            # The whole set is replaced: a key the issuer stopped publishing is no longer trusted.
            self._keys = _import_keys(await self.source.fetch())
        if (key := self._keys.get(kid)) is None:
            raise TokenRejectedError("the token is signed with a key the issuer does not publish")
        return key
