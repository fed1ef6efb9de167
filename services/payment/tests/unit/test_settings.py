from __future__ import annotations

import base64
import os
from datetime import timedelta

import pytest
from pydantic import ValidationError

from payment.settings import DEVELOPMENT_CARD_KEY, PaymentSettings

KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def production(**settings: object) -> PaymentSettings:
    """Settings as production would give them, with the admin token set."""
    return PaymentSettings.model_validate({"environment": "production", "admin_token": "admin-token", **settings})


def test_production_starts_with_its_own_keys() -> None:
    """With its own card key and the processor's key, production starts, and seals with that card key."""
    assert production(payment_card_key=KEY, payment_provider_api_key="sk_live").card_key == base64.urlsafe_b64decode(
        KEY
    )


def test_development_runs_with_the_development_card_key() -> None:
    """In development no card key is needed: the development one seals the cards."""
    assert PaymentSettings().card_key == base64.urlsafe_b64decode(DEVELOPMENT_CARD_KEY)


@pytest.mark.parametrize("card_key", [None, DEVELOPMENT_CARD_KEY])
def test_production_refuses_to_start_without_its_own_card_key(card_key: str | None) -> None:
    """Outside development a card key must be set, and must not be the development one."""
    with pytest.raises(ValidationError, match="PAVED_PAYMENT_CARD_KEY"):
        production(payment_card_key=card_key, payment_provider_api_key="sk_live")


def test_production_refuses_to_start_without_the_processors_key() -> None:
    """Outside development the processor's API key must be set."""
    with pytest.raises(ValidationError, match="PAVED_PAYMENT_PROVIDER_API_KEY"):
        production(payment_card_key=KEY)


@pytest.mark.parametrize("card_key", ["not base64 at all!", base64.urlsafe_b64encode(b"16 bytes is weak").decode()])
def test_a_card_key_that_is_not_32_bytes_of_base64url_is_refused(card_key: str) -> None:
    """A card key that does not decode to 32 bytes is refused at start-up, not at the first payment."""
    with pytest.raises(ValidationError, match="PAVED_PAYMENT_CARD_KEY"):
        PaymentSettings.model_validate({"payment_card_key": card_key})


def test_the_retry_policy_and_the_lease_come_from_the_settings() -> None:
    """The retry policy is the configured one, and a claim outlasts any call's deadline."""
    settings = PaymentSettings(
        payment_charge_attempts=7,
        payment_first_retry_ms=250,
        payment_longest_retry_seconds=10,
        payment_look_up_after_seconds=30,
        payment_provider_timeout_seconds=2,
    )
    policy = settings.retry_policy
    assert (policy.charge_attempts, policy.first_retry) == (7, timedelta(milliseconds=250))
    assert (policy.longest_retry, policy.look_up_after) == (timedelta(seconds=10), timedelta(seconds=30))
    assert settings.claim_lease > timedelta(seconds=2)


def test_paved_up_points_the_service_at_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_PAYMENT_PROVIDER_URL, which `paved up` sets for the payment-provider service, is where it calls."""
    monkeypatch.setenv("PAVED_PAYMENT_PROVIDER_URL", "http://127.0.0.1:9999")
    assert PaymentSettings().payment_provider_url == "http://127.0.0.1:9999"
