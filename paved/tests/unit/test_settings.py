from __future__ import annotations

import pytest
from pydantic import ValidationError

from paved._settings import ServiceSettings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_* variables set the typed settings."""
    monkeypatch.setenv("PAVED_PORT", "9123")
    monkeypatch.setenv("PAVED_BROKER_URL", "nats://127.0.0.1:4333")
    settings = ServiceSettings()
    assert (settings.port, settings.broker_url) == (9123, "nats://127.0.0.1:4333")


@pytest.mark.parametrize("missing", ["jwt_issuer", "jwt_audience"])
def test_a_key_set_url_without_issuer_or_audience_refuses_to_start(missing: str) -> None:
    """Verifying tokens without checking their issuer and audience would accept anyone's: a start-up error."""
    values = {
        "jwks_url": "http://identity/.well-known/jwks.json",
        "jwt_issuer": "http://identity",
        "jwt_audience": "shop",
    }
    with pytest.raises(ValidationError, match="PAVED_JWT_ISSUER and PAVED_JWT_AUDIENCE"):
        ServiceSettings(**{name: value for name, value in values.items() if name != missing})
