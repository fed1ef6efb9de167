from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from identity.settings import DEVELOPMENT_ADMIN_PASSWORD, IdentitySettings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_issuer": "https://identity.musiccorp.example.com",
    "jwt_audience": "musiccorp",
    "identity_admin_password": "a production admin password",
}


def test_development_has_defaults_for_everything() -> None:
    """In development identity starts with no settings: its issuer is where it answers, the admin is seeded."""
    settings = IdentitySettings(port=8102)
    assert settings.issuer == "http://127.0.0.1:8102"
    assert settings.audience == "musiccorp"
    assert settings.admin_password == DEVELOPMENT_ADMIN_PASSWORD
    assert settings.access_token_lifetime.total_seconds() == 600


def test_production_starts_with_its_settings() -> None:
    """With every secret and name given, production settings are accepted as given."""
    settings = IdentitySettings(**PRODUCTION)
    assert (settings.issuer, settings.audience) == (PRODUCTION["jwt_issuer"], "musiccorp")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"identity_admin_password": None}, "PAVED_IDENTITY_ADMIN_PASSWORD"),
        ({"identity_admin_password": DEVELOPMENT_ADMIN_PASSWORD}, "PAVED_IDENTITY_ADMIN_PASSWORD"),
        ({"identity_admin_password": "short"}, "at least 12"),
        ({"jwt_issuer": None}, "PAVED_JWT_ISSUER"),
        ({"jwt_audience": None}, "PAVED_JWT_AUDIENCE"),
    ],
    ids=["no admin password", "the development password", "a short one", "no issuer", "no audience"],
)
def test_production_refuses_development_defaults(change: dict[str, object], named: str) -> None:
    """Outside development a missing or default secret, or a missing issuer or audience, is a start-up error."""
    with pytest.raises(ValidationError, match=named):
        IdentitySettings(**(PRODUCTION | change))


def test_service_clients_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_TOKEN_CLIENTS is a JSON object of client id to secret and scopes."""
    monkeypatch.setenv(
        "PAVED_TOKEN_CLIENTS", '{"order": {"secret": "order-secret-0123456789", "scopes": ["catalog:read"]}}'
    )
    [order] = IdentitySettings().clients.values()
    assert (order.id, order.secret, order.scopes) == ("order", "order-secret-0123456789", {"catalog:read"})


def test_a_short_client_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client secret shorter than 16 characters is a start-up error, not a guessable credential."""
    monkeypatch.setenv("PAVED_TOKEN_CLIENTS", '{"order": {"secret": "short"}}')
    with pytest.raises(ValidationError, match="token_clients"):
        IdentitySettings()
