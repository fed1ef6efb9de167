"""identity's use cases, as the authorization server: register, sign in, refresh, client credentials, keys.

Each opens its own transactions through the unit of work, so that password hashing (slow on purpose)
runs outside them and a refused refresh can still commit the revocation it causes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import structlog
from paved import Clock, utc_now

from identity.domain import (
    Account,
    AccountNotFoundError,
    ClientAuthenticationError,
    EmailAlreadyRegisteredError,
    RefreshToken,
    RefreshTokenRefusedError,
    RefreshTokenReusedError,
    ServiceClient,
    WrongPasswordError,
    check_password_strength,
    grant_scopes,
    hash_refresh_token,
    new_id,
    normalise_email,
    parse_scope,
)
from identity.ports import PasswordHasher, Store, UnitOfWork
from identity.signing import SigningKey, access_token_claims, key_set

log = structlog.get_logger(logger_name="identity.use_cases")

# The JWKS serves the current key and the one before it: tokens signed just before a rotation verify
# until they expire. A key older than that is deleted, private half and all.
PUBLISHED_KEYS = 2


@dataclass(frozen=True)
class TokenPolicy:
    """What identity's tokens say and how long they live."""

    issuer: str
    audience: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful grant returns: an access token, and for accounts a refresh token."""

    access_token: str
    expires_in: int
    scopes: frozenset[str]
    refresh_token: str | None = None


class Authority:
    """identity's use cases over its store, password hasher, configured clients and clock."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        passwords: PasswordHasher,
        policy: TokenPolicy,
        clients: Mapping[str, ServiceClient],
        admin_email: str,
        admin_password: str,
        clock: Clock = utc_now,
    ) -> None:
        self.uow = uow
        self.passwords = passwords
        self.policy = policy
        self.clients = clients
        self.clock = clock
        self._admin = (normalise_email(admin_email), admin_password)
        self._dummy_hash: str | None = None

    async def prepare(self) -> None:
        """Make the first signing key and the seeded admin if they are missing (at every start).

        Idempotent: replicas starting together at worst both make a key, and the newer one signs.
        """
        async with self.uow.write() as store:
            if not await store.signing_keys.newest(1):
                await store.signing_keys.add(SigningKey.generate(now=self.clock()))
        await self._seed_admin()

    async def _seed_admin(self) -> None:
        email, password = self._admin
        async with self.uow.read() as store:
            existing = await store.accounts.by_email(email)
        if existing is not None:
            if existing.role != "admin":
                log.error("the admin's email address belongs to a customer account: no admin was seeded")
            return
        account = Account(
            id=new_id("acc"),
            email=email,
            password_hash=await self.passwords.hash(password),
            role="admin",
            created_at=self.clock(),
        )
        try:
            async with self.uow.write() as store:
                await store.accounts.add(account)
        except EmailAlreadyRegisteredError:
            pass  # another replica seeded it first

    async def register(self, *, email: str, password: str) -> Account:
        """A new customer account; refuses a taken email address or a weak password."""
        email = normalise_email(email)
        check_password_strength(password, email=email)
        async with self.uow.read() as store:
            # Refused before hashing, which costs far more than asking.
            if await store.accounts.by_email(email) is not None:
                raise EmailAlreadyRegisteredError
        account = Account(
            id=new_id("acc"),
            email=email,
            password_hash=await self.passwords.hash(password),
            role="customer",
            created_at=self.clock(),
        )
        async with self.uow.write() as store:
            await store.accounts.add(account)  # a registration racing this one is refused here
        return account

    async def account(self, account_id: str) -> Account:
        """The account with this id."""
        async with self.uow.read() as store:
            return await store.accounts.get(account_id)

    async def sign_in(self, *, email: str, password: str, scope: str | None) -> IssuedTokens:
        """The password grant: tokens for the account whose email and password these are."""
        async with self.uow.read() as store:
            account = await store.accounts.by_email(normalise_email(email))
        if account is None:
            # As long as a wrong password takes, so that timing does not tell which addresses have accounts.
            await self.passwords.verify(await self._unmatchable_hash(), password)
            raise WrongPasswordError("the email address and password do not match")
        if not await self.passwords.verify(account.password_hash, password):
            raise WrongPasswordError("the email address and password do not match")
        scopes = grant_scopes(parse_scope(scope), allowed=account.scopes)
        rehashed = await self.passwords.hash(password) if self.passwords.needs_rehash(account.password_hash) else None
        async with self.uow.write() as store:
            if rehashed is not None:
                await store.accounts.change_password_hash(account.id, rehashed)
            tokens = await self._issue(store, subject=account.id, scopes=scopes)
            return await self._with_refresh_token(store, tokens, account_id=account.id, scopes=scopes, family_id=None)

    async def authenticate_client(self, *, client_id: str, secret: str, scope: str | None) -> IssuedTokens:
        """The client-credentials grant: an access token for a configured service client, and no refresh token."""
        client = self.verify_client(client_id=client_id, secret=secret)
        scopes = grant_scopes(parse_scope(scope), allowed=client.scopes)
        async with self.uow.read() as store:
            return await self._issue(store, subject=client.id, scopes=scopes, client_id=client.id)

    def verify_client(self, *, client_id: str, secret: str) -> ServiceClient:
        """The configured client with this id and secret; raises ``ClientAuthenticationError``."""
        client = self.clients.get(client_id)
        if client is None:
            raise ClientAuthenticationError("the client id and secret do not match")
        client.authenticate(secret)
        return client

    async def refresh(self, *, refresh_token: str, scope: str | None) -> IssuedTokens:
        """The refresh-token grant: the token is used up and replaced; a second use revokes its family."""
        now = self.clock()
        try:
            async with self.uow.write() as store:
                record = await store.refresh_tokens.find(hash_refresh_token(refresh_token))
                if record is None:
                    raise RefreshTokenRefusedError("this refresh token is not known")
                used = record.redeem(now=now)
                if not await store.refresh_tokens.mark_used(used):
                    # Another request used it between our read and our write: the same reuse, seen late.
                    raise RefreshTokenReusedError(record.family_id)
                try:
                    account = await store.accounts.get(record.account_id)
                except AccountNotFoundError as exc:
                    raise RefreshTokenRefusedError("the account of this refresh token is gone") from exc
                # Never more than first granted (RFC 6749, section 6), nor than the account has now; the
                # new refresh token keeps the old one's scope, whatever this access token asked for.
                kept = record.scopes & account.scopes
                granted = grant_scopes(parse_scope(scope), allowed=kept)
                tokens = await self._issue(store, subject=account.id, scopes=granted)
                return await self._with_refresh_token(
                    store, tokens, account_id=account.id, scopes=kept, family_id=record.family_id
                )
        except RefreshTokenReusedError as reuse:
            # The transaction above rolled back; the revocation must stand although this request fails.
            async with self.uow.write() as store:
                await store.refresh_tokens.revoke_family(reuse.family_id, at=now)
            log.warning("refresh token reused: its family is revoked", family_id=reuse.family_id)
            raise

    async def published_keys(self) -> dict[str, Any]:
        """The JWKS: the public halves of the current and the previous signing key."""
        async with self.uow.read() as store:
            return key_set(await store.signing_keys.newest(PUBLISHED_KEYS))

    async def rotate_keys(self) -> SigningKey:
        """Sign with a new key from now on; the one before stays published, older ones are deleted."""
        key = SigningKey.generate(now=self.clock())
        async with self.uow.write() as store:
            await store.signing_keys.add(key)
            await store.signing_keys.remove_all_but_newest(PUBLISHED_KEYS)
        log.info("signing keys rotated", kid=key.kid)
        return key

    async def _issue(
        self, store: Store, *, subject: str, scopes: frozenset[str], client_id: str | None = None
    ) -> IssuedTokens:
        """An access token signed with the current key."""
        [key] = await store.signing_keys.newest(1)
        claims = access_token_claims(
            issuer=self.policy.issuer,
            audience=self.policy.audience,
            subject=subject,
            scopes=scopes,
            now=self.clock(),
            lifetime=self.policy.access_lifetime,
            client_id=client_id,
        )
        lifetime = int(self.policy.access_lifetime.total_seconds())
        return IssuedTokens(access_token=key.sign(claims), expires_in=lifetime, scopes=scopes)

    async def _with_refresh_token(
        self, store: Store, tokens: IssuedTokens, *, account_id: str, scopes: frozenset[str], family_id: str | None
    ) -> IssuedTokens:
        """``tokens`` with a new refresh token of ``family_id`` (a new family when ``None``)."""
        token, record = RefreshToken.issue(
            account_id=account_id,
            scopes=scopes,
            now=self.clock(),
            lifetime=self.policy.refresh_lifetime,
            family_id=family_id,
        )
        await store.refresh_tokens.add(record)
        return replace(tokens, refresh_token=token)

    async def _unmatchable_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.passwords.hash(new_id("never-a-password"))
        return self._dummy_hash
