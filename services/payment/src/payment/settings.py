"""The payment service's settings: paved's, plus the card processor's address and key, the retry policy and the
card key. All from ``PAVED_*`` variables, read once at start-up, e.g.::

    PAVED_PAYMENT_PROVIDER_URL=http://127.0.0.1:8109   # `paved up` sets it to the payment-provider's address
    PAVED_PAYMENT_PROVIDER_API_KEY=...                 # the processor's secret key
    PAVED_PAYMENT_PROVIDER_TIMEOUT_SECONDS=5           # every call's deadline
    PAVED_PAYMENT_CHARGE_ATTEMPTS=5                    # calls without an answer before a payment fails
    PAVED_PAYMENT_CARD_KEY=...                         # 32 bytes, base64url: seals card numbers at rest
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from paved import ServiceSettings
from pydantic import Field, SecretStr, model_validator

from payment.retries import RetryPolicy

# Development only: refused in every other environment.
DEVELOPMENT_CARD_KEY = base64.urlsafe_b64encode(b"musiccorp-development-card-key!!").decode()


class PaymentSettings(ServiceSettings):
    """Everything the payment service is told at start-up."""

    payment_provider_url: str = "http://127.0.0.1:8109"
    payment_provider_api_key: SecretStr | None = None
    payment_provider_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    payment_charge_attempts: int = Field(default=5, ge=1, le=100)
    payment_first_retry_ms: int = Field(default=500, ge=1, le=60_000)
    payment_longest_retry_seconds: float = Field(default=60.0, gt=0, le=3600)
    payment_look_up_after_seconds: float = Field(default=60.0, ge=0, le=24 * 3600)
    payment_worker_concurrency: int = Field(default=8, ge=1, le=256)
    payment_card_key: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_development_secrets_elsewhere(self) -> PaymentSettings:
        if self.environment == "development":
            return self
        key = self.payment_card_key
        if key is None or key.get_secret_value() == DEVELOPMENT_CARD_KEY:
            raise ValueError(f"PAVED_PAYMENT_CARD_KEY must be set when PAVED_ENVIRONMENT={self.environment}")
        if self.payment_provider_api_key is None:
            raise ValueError(f"PAVED_PAYMENT_PROVIDER_API_KEY must be set when PAVED_ENVIRONMENT={self.environment}")
        return self

    @model_validator(mode="after")
    def _refuse_a_card_key_of_the_wrong_size(self) -> PaymentSettings:
        _ = self.card_key
        return self

    @property
    def card_key(self) -> bytes:
        """The 32 bytes that seal card numbers at rest."""
        encoded = self.payment_card_key.get_secret_value() if self.payment_card_key else DEVELOPMENT_CARD_KEY
        try:
            key = base64.urlsafe_b64decode(encoded.encode())
        except (binascii.Error, ValueError) as exc:
            raise ValueError("PAVED_PAYMENT_CARD_KEY is not base64url") from exc
        if len(key) != 32:
            raise ValueError(f"PAVED_PAYMENT_CARD_KEY is {len(key)} bytes, not 32 (AES-256)")
        return key

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            charge_attempts=self.payment_charge_attempts,
            first_retry=timedelta(milliseconds=self.payment_first_retry_ms),
            longest_retry=timedelta(seconds=self.payment_longest_retry_seconds),
            look_up_after=timedelta(seconds=self.payment_look_up_after_seconds),
        )

    @property
    def claim_lease(self) -> timedelta:
        """How long a claimed step is left to its worker: past any call's deadline, with room to record it."""
        return timedelta(seconds=2 * self.payment_provider_timeout_seconds + 5)
