from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from web_bff.settings import DOWNSTREAM_SERVICES, WebBffSettings

URLS: dict[str, Any] = {f"{name}_url": f"http://{name}.test" for name in DOWNSTREAM_SERVICES}


def test_the_services_urls_are_read_from_the_variables_paved_up_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_CATALOG_URL and the like are where the BFF calls each service."""
    monkeypatch.setenv("PAVED_CATALOG_URL", "http://127.0.0.1:8101")
    monkeypatch.setenv("PAVED_WEB_BFF_OPTIONAL_CALL_TIMEOUT_SECONDS", "0.5")
    settings = WebBffSettings()
    assert settings.url_of("catalog") == "http://127.0.0.1:8101"
    assert settings.url_of("order") is None
    assert settings.deadlines.optional == 0.5


def test_outside_development_every_service_must_be_named() -> None:
    """In production a BFF missing a service's URL refuses to start, naming the variables to set."""
    with pytest.raises(ValidationError, match="PAVED_LOYALTY_URL, PAVED_PAYMENT_URL must be set"):
        WebBffSettings(
            environment="production",
            **{name: url for name, url in URLS.items() if name not in ("loyalty_url", "payment_url")},
        )
    assert WebBffSettings(environment="production", **URLS).url_of("payment")


def test_a_deadline_must_be_a_positive_time() -> None:
    """A zero or negative deadline is a start-up error, not calls that all time out."""
    with pytest.raises(ValidationError, match="web_bff_call_timeout_seconds"):
        WebBffSettings(web_bff_call_timeout_seconds=0)
