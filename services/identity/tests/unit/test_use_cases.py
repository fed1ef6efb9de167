from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws
from paved import TokenVerifier

from identity.domain import (
    ClientAuthenticationError,
    EmailAlreadyRegisteredError,
    InvalidScopeError,
    RefreshTokenRefusedError,
    RefreshTokenReusedError,
    ServiceClient,
    WeakPasswordError,
    WrongPasswordError,
)
from identity.use_cases import Authority, IssuedTokens, TokenPolicy

from .fakes import FakePasswords, FakeUnitOfWork

ISSUER, AUDIENCE = "http://identity.test", "shop"
ADMIN_EMAIL, ADMIN_PASSWORD = "root@shop.test", "admin password of the test"
ANN, ANNS_PASSWORD = "ann@example.com", "ann's long password"
ORDER = ServiceClient(id="order", secret="order-secret-0123456789", scopes=frozenset({"catalog:read", "stock:reserve"}))


class FakeClock:
    """The time a test says it is (``now``), as the use cases' ``Clock``."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def passwords() -> FakePasswords:
    return FakePasswords()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def authority(uow: FakeUnitOfWork, passwords: FakePasswords, clock: FakeClock) -> Authority:
    authority = Authority(
        uow=uow,
        passwords=passwords,
        policy=TokenPolicy(
            issuer=ISSUER, audience=AUDIENCE, access_lifetime=timedelta(minutes=10), refresh_lifetime=timedelta(days=14)
        ),
        clients={ORDER.id: ORDER},
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        clock=clock,
    )
    await authority.prepare()
    return authority


async def verified(authority: Authority, token: str) -> Any:
    """The principal of ``token`` according to paved's verifier, over the authority's published keys."""

    class Published:
        async def fetch(self) -> dict[str, Any]:
            return await authority.published_keys()

    verifier = TokenVerifier(
        keys=Published(), issuer=ISSUER, audience=AUDIENCE, now=lambda: authority.clock().timestamp()
    )
    return await verifier.verify(token)


async def signed_in(authority: Authority) -> IssuedTokens:
    await authority.register(email=ANN, password=ANNS_PASSWORD)
    return await authority.sign_in(email=ANN, password=ANNS_PASSWORD, scope=None)


async def test_preparing_makes_one_signing_key_and_the_admin_once(authority: Authority, uow: FakeUnitOfWork) -> None:
    """The first key and the seeded admin exist after prepare, and preparing again adds nothing."""
    await authority.prepare()
    assert len(uow.store.signing_keys.rows) == 1
    [admin] = uow.store.accounts.rows.values()
    assert (admin.email, admin.role) == (ADMIN_EMAIL, "admin")


async def test_the_seeded_admin_signs_in_with_the_admin_scope(authority: Authority) -> None:
    """The admin from settings signs in with its password and gets an admin-scoped token."""
    tokens = await authority.sign_in(email=ADMIN_EMAIL.upper(), password=ADMIN_PASSWORD, scope=None)
    assert (await verified(authority, tokens.access_token)).scopes == {"admin"}


async def test_registering_makes_a_customer_with_a_hashed_password(authority: Authority) -> None:
    """A new account is a customer, its email normalised, its password stored only as a hash."""
    account = await authority.register(email="  Ann@Example.com", password=ANNS_PASSWORD)
    assert (account.email, account.role) == (ANN, "customer")
    assert account.password_hash != ANNS_PASSWORD and account.id.startswith("acc_")
    assert await authority.account(account.id) == account


async def test_an_email_registers_once_whatever_its_case(authority: Authority, passwords: FakePasswords) -> None:
    """A second registration of an address is refused before its password is hashed."""
    await authority.register(email=ANN, password=ANNS_PASSWORD)
    hashes = len(passwords.hashed)
    with pytest.raises(EmailAlreadyRegisteredError):
        await authority.register(email="ANN@example.com", password="another long password")
    assert len(passwords.hashed) == hashes


async def test_a_weak_password_registers_nothing(authority: Authority, uow: FakeUnitOfWork) -> None:
    """A password that is the email address is refused, and no account is made."""
    with pytest.raises(WeakPasswordError):
        await authority.register(email=ANN, password=ANN)
    assert [a.email for a in uow.store.accounts.rows.values()] == [ADMIN_EMAIL]


async def test_signing_in_issues_an_access_token_and_a_refresh_token(
    authority: Authority, uow: FakeUnitOfWork, clock: FakeClock
) -> None:
    """The access token is an ES256 at+jwt for the account, ten minutes long, with its scopes and a fresh jti."""
    tokens = await signed_in(authority)
    account = await uow.store.accounts.by_email(ANN)
    assert account is not None
    principal = await verified(authority, tokens.access_token)
    assert (principal.subject, principal.kind, principal.scopes) == (account.id, "account", {"customer"})
    assert principal.expires_at == clock.now + timedelta(minutes=10) and tokens.expires_in == 600
    assert tokens.refresh_token and principal.token_id


async def test_a_wrong_password_and_an_unknown_email_are_refused_alike(
    authority: Authority, passwords: FakePasswords
) -> None:
    """Both are WrongPasswordError with the same message, and both cost a password check (no timing tell)."""
    await authority.register(email=ANN, password=ANNS_PASSWORD)
    checks = passwords.verified
    with pytest.raises(WrongPasswordError) as wrong:
        await authority.sign_in(email=ANN, password="not ann's password", scope=None)
    with pytest.raises(WrongPasswordError) as unknown:
        await authority.sign_in(email="bob@example.com", password=ANNS_PASSWORD, scope=None)
    assert str(wrong.value) == str(unknown.value)
    assert passwords.verified == checks + 2


async def test_an_old_hash_is_replaced_at_sign_in(authority: Authority, uow: FakeUnitOfWork) -> None:
    """A hash made with older parameters is made again from the password that just matched."""
    account = await authority.register(email=ANN, password=ANNS_PASSWORD)
    uow.store.accounts.rows[account.id].password_hash = f"v1:{ANNS_PASSWORD}"
    await authority.sign_in(email=ANN, password=ANNS_PASSWORD, scope=None)
    assert uow.store.accounts.rows[account.id].password_hash == f"v2:{ANNS_PASSWORD}"


async def test_a_customer_cannot_ask_for_the_admin_scope(authority: Authority) -> None:
    """Asking for a scope beyond the account's role is invalid_scope, and nothing is issued."""
    await authority.register(email=ANN, password=ANNS_PASSWORD)
    with pytest.raises(InvalidScopeError, match="admin"):
        await authority.sign_in(email=ANN, password=ANNS_PASSWORD, scope="customer admin")


async def test_a_service_client_gets_an_access_token_for_itself(authority: Authority) -> None:
    """Client credentials give a client principal with the scopes asked for, and no refresh token."""
    tokens = await authority.authenticate_client(client_id="order", secret=ORDER.secret, scope="catalog:read")
    principal = await verified(authority, tokens.access_token)
    assert (principal.subject, principal.kind, principal.scopes) == ("order", "client", {"catalog:read"})
    assert tokens.refresh_token is None


@pytest.mark.parametrize(("client_id", "secret"), [("order", "wrong-secret-0123456789"), ("payment", ORDER.secret)])
async def test_a_wrong_or_unknown_client_is_refused(authority: Authority, client_id: str, secret: str) -> None:
    """A wrong secret and an unconfigured client id are both refused."""
    with pytest.raises(ClientAuthenticationError):
        await authority.authenticate_client(client_id=client_id, secret=secret, scope=None)


async def test_a_refresh_token_is_used_once_and_replaced(authority: Authority, clock: FakeClock) -> None:
    """Refreshing gives a new access token and a new refresh token; the new one refreshes again."""
    first = await signed_in(authority)
    clock.now += timedelta(minutes=9)
    second = await authority.refresh(refresh_token=first.refresh_token or "", scope=None)
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token
    third = await authority.refresh(refresh_token=second.refresh_token or "", scope=None)
    assert (await verified(authority, third.access_token)).scopes == {"customer"}


async def test_reusing_a_refresh_token_revokes_its_whole_family(authority: Authority, uow: FakeUnitOfWork) -> None:
    """A used token presented again is refused, and the newest token of the same sign-in stops working too."""
    first = await signed_in(authority)
    second = await authority.refresh(refresh_token=first.refresh_token or "", scope=None)
    other_sign_in = await authority.sign_in(email=ANN, password=ANNS_PASSWORD, scope=None)
    with pytest.raises(RefreshTokenReusedError):
        await authority.refresh(refresh_token=first.refresh_token or "", scope=None)
    with pytest.raises(RefreshTokenRefusedError, match="revoked"):
        await authority.refresh(refresh_token=second.refresh_token or "", scope=None)
    # Another sign-in of the same account is another family: it is not touched.
    assert (await authority.refresh(refresh_token=other_sign_in.refresh_token or "", scope=None)).refresh_token


async def test_unknown_and_expired_refresh_tokens_are_refused(authority: Authority, clock: FakeClock) -> None:
    """A token identity never issued, and one past its fourteen days, are refused."""
    with pytest.raises(RefreshTokenRefusedError, match="not known"):
        await authority.refresh(refresh_token="made-up", scope=None)
    tokens = await signed_in(authority)
    clock.now += timedelta(days=14)
    with pytest.raises(RefreshTokenRefusedError, match="expired"):
        await authority.refresh(refresh_token=tokens.refresh_token or "", scope=None)


async def test_a_refresh_may_narrow_the_scope_but_the_family_keeps_it(authority: Authority) -> None:
    """An access token may ask for less than first granted; the next refresh may have all of it again."""
    tokens = await authority.sign_in(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, scope=None)
    narrowed = await authority.refresh(refresh_token=tokens.refresh_token or "", scope="admin")
    assert narrowed.scopes == {"admin"}
    with pytest.raises(InvalidScopeError):
        await authority.refresh(refresh_token=narrowed.refresh_token or "", scope="customer")
    # The failed refresh above changed nothing: its token is still unused.
    assert (await authority.refresh(refresh_token=narrowed.refresh_token or "", scope=None)).scopes == {"admin"}


async def test_rotation_signs_with_the_new_key_and_publishes_two(authority: Authority) -> None:
    """After rotating, tokens name the new key; the JWKS has it and the previous one, and drops older ones."""
    first_kid = (await authority.published_keys())["keys"][0]["kid"]
    before = await authority.sign_in(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, scope=None)
    second = await authority.rotate_keys()
    after = await authority.sign_in(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, scope=None)
    assert jws.extract_compact(after.access_token.encode()).headers()["kid"] == second.kid
    assert [k["kid"] for k in (await authority.published_keys())["keys"]] == [second.kid, first_kid]
    assert (await verified(authority, before.access_token)).subject  # signed before: still verifies
    third = await authority.rotate_keys()
    published = [k["kid"] for k in (await authority.published_keys())["keys"]]
    assert published == [third.kid, second.kid]
    assert all("d" not in key for key in (await authority.published_keys())["keys"])  # public halves only
