"""Accounts, service clients, scopes and refresh tokens: identity's rules, with no I/O and no framework."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

Role = Literal["customer", "admin"]

# What each kind of account may ask for. An admin runs the shop; buying in it is a customer account's.
SCOPES_OF_ROLE: dict[Role, frozenset[str]] = {
    "customer": frozenset({"customer"}),
    "admin": frozenset({"admin"}),
}
# RFC 6749, section 3.3: a scope token is printable ASCII without space, double quote or backslash.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
MIN_PASSWORD_LENGTH = 12
# Argon2 costs the same for any length, but a megabyte "password" is an attack, not a password.
MAX_PASSWORD_LENGTH = 256


class IdentityError(Exception):
    """A rule of identity was broken."""


class EmailAlreadyRegisteredError(IdentityError):
    def __init__(self) -> None:
        # Which address is not repeated back: the caller sent it, and logs need not keep it.
        super().__init__("an account with this email address already exists")


class WeakPasswordError(IdentityError):
    """A password that would be too easy to guess; ``field`` is the request field it came in."""

    field = "password"


class AccountNotFoundError(IdentityError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account has the id {account_id!r}")


class WrongPasswordError(IdentityError):
    """The email address and password do not match an account (which of the two is wrong is not told)."""


class ClientAuthenticationError(IdentityError):
    """The client id and secret do not match a configured service client."""


class InvalidScopeError(IdentityError):
    """A scope was asked for that the account or client may not have."""


class RefreshTokenRefusedError(IdentityError):
    """The refresh token is unknown, expired, revoked or already used."""


class RefreshTokenReusedError(RefreshTokenRefusedError):
    """A refresh token was presented a second time: its whole family is revoked (it may have been stolen)."""

    def __init__(self, family_id: str) -> None:
        super().__init__("this refresh token was already used; every token of its sign-in is now revoked")
        self.family_id = family_id


def new_id(prefix: str) -> str:
    """An opaque, unguessable identifier such as ``acc_3q2…``."""
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def normalise_email(email: str) -> str:
    """The form an address is stored and looked up in: ``Ann@Example.com`` and ``ann@example.com`` are one."""
    return email.strip().lower()


def check_password_strength(password: str, *, email: str) -> None:
    """Refuse a password that is too short, too long, or the account's own email address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if normalise_email(password) == normalise_email(email):
        raise WeakPasswordError("a password must not be the email address")


def parse_scope(scope: str | None) -> frozenset[str] | None:
    """The scopes of an OAuth ``scope`` parameter (space-separated); ``None`` when none were asked for."""
    if scope is None or not scope.strip():
        return None
    scopes = frozenset(scope.split(" ")) - {""}
    if not all(SCOPE_TOKEN.fullmatch(name) for name in scopes):
        # Not repeated back: a client should see its own mistake, not have it echoed into a header or log.
        raise InvalidScopeError("a scope is made of printable ASCII other than space, quote and backslash")
    return scopes


def grant_scopes(requested: frozenset[str] | None, *, allowed: frozenset[str]) -> frozenset[str]:
    """What a token gets: everything allowed when nothing was asked for, else what was asked, if allowed."""
    if requested is None:
        return allowed
    if not requested <= allowed:
        refused = " ".join(sorted(requested - allowed))
        raise InvalidScopeError(f"not granted: {refused}")
    return requested


@dataclass
class Account:
    """A person who signs in: a customer, or an admin of the shop."""

    id: str
    email: str
    password_hash: str
    role: Role
    created_at: datetime

    @property
    def scopes(self) -> frozenset[str]:
        return SCOPES_OF_ROLE[self.role]


@dataclass(frozen=True)
class ServiceClient:
    """A service that signs in as itself (client credentials), configured, not registered."""

    id: str
    secret: str
    scopes: frozenset[str]

    def authenticate(self, secret: str) -> None:
        """Raise unless ``secret`` is this client's, in time that does not tell how much of it matched."""
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            raise ClientAuthenticationError("the client id and secret do not match")


def hash_refresh_token(token: str) -> str:
    """What is stored of a refresh token: its SHA-256 (it is 256 random bits, so a slow hash adds nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RefreshToken:
    """One refresh token, as stored: its hash, never the token. Each use replaces it by a new one of the
    same family (one sign-in); a token used twice means a copy exists, and revokes the family."""

    token_hash: str
    family_id: str
    account_id: str
    scopes: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls, *, account_id: str, scopes: frozenset[str], now: datetime, lifetime: timedelta, family_id: str | None
    ) -> tuple[str, RefreshToken]:
        """A new token (returned once, to the client) and its stored record."""
        token = secrets.token_urlsafe(32)
        record = cls(
            token_hash=hash_refresh_token(token),
            family_id=family_id or new_id("fam"),
            account_id=account_id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + lifetime,
        )
        return token, record

    def redeem(self, *, now: datetime) -> RefreshToken:
        """This token, used now; refused if it cannot be, and a reuse is told apart from the rest."""
        if self.revoked_at is not None:
            raise RefreshTokenRefusedError("this refresh token was revoked")
        if self.used_at is not None:
            raise RefreshTokenReusedError(self.family_id)
        if now >= self.expires_at:
            raise RefreshTokenRefusedError("this refresh token has expired")
        return replace(self, used_at=now)
