from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from order.cards import CardVault
from order.settings import DEVELOPMENT_CARD_KEY, OrderSettings

PRODUCTION: dict[str, object] = {"environment": "production"}
URLS: dict[str, object] = {"catalog_url": "http://catalog", "customer_url": "http://customer"}


def test_development_runs_with_the_development_card_key() -> None:
    """On a laptop nothing needs setting; the development key is a valid key."""
    settings = OrderSettings()
    assert settings.card_key == DEVELOPMENT_CARD_KEY
    CardVault(settings.card_key)


@pytest.mark.parametrize("key", [None, SecretStr(DEVELOPMENT_CARD_KEY)])
def test_other_environments_refuse_to_start_without_a_card_key_of_their_own(key: SecretStr | None) -> None:
    """Production without PAVED_ORDER_CARD_KEY, or with the development one, is a start-up error naming it."""
    with pytest.raises(ValidationError, match="PAVED_ORDER_CARD_KEY"):
        OrderSettings.model_validate({**PRODUCTION, **URLS, "order_card_key": key})


def test_other_environments_refuse_to_start_without_the_catalog_and_customer_urls() -> None:
    """Order cannot place an order without knowing where prices and addresses are."""
    with pytest.raises(ValidationError, match="PAVED_CATALOG_URL"):
        OrderSettings.model_validate({**PRODUCTION, "order_card_key": Fernet.generate_key().decode()})


def test_settings_come_from_paved_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`paved up` tells order where the others are with PAVED_<NAME>_URL; deadlines are PAVED_ORDER_*."""
    monkeypatch.setenv("PAVED_CATALOG_URL", "http://127.0.0.1:8101")
    monkeypatch.setenv("PAVED_CUSTOMER_URL", "http://127.0.0.1:8103")
    monkeypatch.setenv("PAVED_ORDER_PAYMENT_DEADLINE_SECONDS", "90")
    settings = OrderSettings()
    assert (settings.catalog_url, settings.customer_url) == ("http://127.0.0.1:8101", "http://127.0.0.1:8103")
    assert settings.payment_deadline == timedelta(seconds=90)
