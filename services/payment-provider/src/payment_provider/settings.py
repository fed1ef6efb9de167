"""The processor's settings: paved's, plus its API key, the cards it declines and how it misbehaves.

All from ``PAVED_*`` variables, read once at start-up, e.g.::

    PAVED_PROVIDER_LATENCY_MS=80            # every request takes at least this long
    PAVED_PROVIDER_JITTER_MS=40             # plus up to this much more
    PAVED_PROVIDER_ERROR_RATE=0.05          # this share answers 500/503 having done nothing
    PAVED_PROVIDER_TIMEOUT_RATE=0.02        # this share does the work, then sleeps past any deadline
    PAVED_PROVIDER_TIMEOUT_SECONDS=30
    PAVED_PROVIDER_SEED=42                  # the same fates in the same order, every run
    PAVED_PROVIDER_DECLINED_CARDS='{"4000000000000002": "card_declined"}'
    PAVED_PROVIDER_API_KEY=...              # clients send "Authorization: Bearer <key>"
"""

from __future__ import annotations

from paved import ServiceSettings
from pydantic import Field, SecretStr, model_validator

from payment_provider.behaviour import Behaviour

# The test cards card processors publish: each always declines, with its code.
TEST_DECLINED_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
}


class ProviderSettings(ServiceSettings):
    """Everything the processor is told at start-up."""

    provider_api_key: SecretStr | None = None
    provider_declined_cards: dict[str, str] = Field(default_factory=lambda: dict(TEST_DECLINED_CARDS))
    provider_latency_ms: int = Field(default=0, ge=0, le=60_000)
    provider_jitter_ms: int = Field(default=0, ge=0, le=60_000)
    provider_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    provider_timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    provider_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    provider_seed: int | None = None

    @model_validator(mode="after")
    def _refuse_impossible_rates(self) -> ProviderSettings:
        if self.provider_error_rate + self.provider_timeout_rate > 1.0:
            raise ValueError("PAVED_PROVIDER_ERROR_RATE and PAVED_PROVIDER_TIMEOUT_RATE together cannot exceed 1")
        return self

    @model_validator(mode="after")
    def _refuse_an_open_processor_outside_development(self) -> ProviderSettings:
        if self.environment != "development" and self.provider_api_key is None:
            raise ValueError(f"PAVED_PROVIDER_API_KEY must be set when PAVED_ENVIRONMENT={self.environment}")
        return self

    @property
    def behaviour(self) -> Behaviour:
        return Behaviour(
            latency_seconds=self.provider_latency_ms / 1000,
            jitter_seconds=self.provider_jitter_ms / 1000,
            error_rate=self.provider_error_rate,
            timeout_rate=self.provider_timeout_rate,
            timeout_seconds=self.provider_timeout_seconds,
            seed=self.provider_seed,
        )
