from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from identity.domain import (
    ClientAuthenticationError,
    InvalidScopeError,
    RefreshToken,
    RefreshTokenRefusedError,
    RefreshTokenReusedError,
    ServiceClient,
    WeakPasswordError,
    check_password_strength,
    grant_scopes,
    hash_refresh_token,
    normalise_email,
    parse_scope,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 12"), ("x" * 257, "at most 256"), ("Ann@Example.com", "not be the email")],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, message: str) -> None:
    """Too short, too long, or the email address itself: refused, saying which."""
    with pytest.raises(WeakPasswordError, match=message) as refused:
        check_password_strength(password, email="ann@example.com")
    assert refused.value.field == "password"


def test_a_long_enough_password_is_accepted() -> None:
    """Twelve characters that are not the email address pass."""
    check_password_strength("correct horse battery", email="ann@example.com")


def test_emails_are_compared_without_case_or_surrounding_space() -> None:
    """Ann@Example.COM and ann@example.com are the same account."""
    assert normalise_email("  Ann@Example.COM ") == "ann@example.com"


@pytest.mark.parametrize(("scope", "expected"), [(None, None), ("", None), ("  ", None), ("a b a", {"a", "b"})])
def test_a_scope_parameter_is_space_separated_and_blank_means_none(
    scope: str | None, expected: set[str] | None
) -> None:
    """A blank scope is no scope asked for; otherwise each space-separated word is one scope."""
    assert parse_scope(scope) == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize("scope", ['admin "x"', "caf\u00e9", "back\\slash", "tab\tseparated"])
def test_a_scope_outside_rfc_6749s_characters_is_refused(scope: str) -> None:
    """Quotes, backslashes, control and non-ASCII characters are not scope tokens (RFC 6749, section 3.3)."""
    with pytest.raises(InvalidScopeError, match="printable ASCII"):
        parse_scope(scope)


def test_nothing_asked_for_grants_everything_allowed() -> None:
    """Without a scope parameter the token gets every scope the account or client may have."""
    assert grant_scopes(None, allowed=frozenset({"customer"})) == {"customer"}


def test_a_scope_beyond_what_is_allowed_is_refused_by_name() -> None:
    """Asking for more than allowed is refused, naming what was not granted; a subset is granted as asked."""
    allowed = frozenset({"catalog:read", "orders:read"})
    assert grant_scopes(frozenset({"catalog:read"}), allowed=allowed) == {"catalog:read"}
    with pytest.raises(InvalidScopeError, match="admin"):
        grant_scopes(frozenset({"catalog:read", "admin"}), allowed=allowed)


def test_a_client_authenticates_with_its_own_secret_only() -> None:
    """The configured secret passes; any other, including a prefix of it, is refused."""
    client = ServiceClient(id="order", secret="s3cret-s3cret-s3cret", scopes=frozenset())
    client.authenticate("s3cret-s3cret-s3cret")
    for wrong in ("", "s3cret", "s3cret-s3cret-s3creT"):
        with pytest.raises(ClientAuthenticationError):
            client.authenticate(wrong)


def issue(lifetime: timedelta = timedelta(days=14)) -> tuple[str, RefreshToken]:
    return RefreshToken.issue(
        account_id="acc_1", scopes=frozenset({"customer"}), now=NOW, lifetime=lifetime, family_id=None
    )


def test_a_refresh_token_is_stored_as_its_hash_only() -> None:
    """The record keeps the token's SHA-256, never the token, and starts a new family."""
    token, record = issue()
    assert record.token_hash == hash_refresh_token(token) != token
    assert token not in repr(record)
    assert record.family_id.startswith("fam_") and record.expires_at == NOW + timedelta(days=14)


def test_redeeming_marks_the_token_used() -> None:
    """A fresh token redeems once, recording when."""
    _, record = issue()
    assert record.redeem(now=NOW + timedelta(hours=1)).used_at == NOW + timedelta(hours=1)


def test_a_second_redemption_is_a_reuse_that_names_the_family() -> None:
    """A used token presented again is a reuse: the error carries the family to revoke."""
    _, record = issue()
    used = record.redeem(now=NOW)
    with pytest.raises(RefreshTokenReusedError) as reuse:
        used.redeem(now=NOW)
    assert reuse.value.family_id == record.family_id


def test_expired_and_revoked_tokens_are_refused_but_are_not_reuses() -> None:
    """Expiry and revocation refuse the token without treating it as stolen."""
    _, record = issue(lifetime=timedelta(days=1))
    with pytest.raises(RefreshTokenRefusedError, match="expired") as expired:
        record.redeem(now=NOW + timedelta(days=1))
    assert not isinstance(expired.value, RefreshTokenReusedError)
    revoked = replace(record, revoked_at=NOW)
    with pytest.raises(RefreshTokenRefusedError, match="revoked"):
        revoked.redeem(now=NOW)
