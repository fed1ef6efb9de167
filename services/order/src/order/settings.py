"""order's settings: paved's, plus where the catalog and customer service answer, the deadlines of its
calls and commands, and the key that seals card numbers. All from ``PAVED_*`` variables, read once::

    PAVED_CATALOG_URL=http://127.0.0.1:8101      # set by `paved up`
    PAVED_CUSTOMER_URL=http://127.0.0.1:8103     # set by `paved up`
    PAVED_ORDER_CARD_KEY=...                     # a Fernet key, made with:
        python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
"""

from __future__ import annotations

from datetime import timedelta

from paved import ServiceSettings
from pydantic import Field, SecretStr, model_validator

from order.domain import FulfilmentStyle

# Development only: refused in every other environment, where PAVED_ORDER_CARD_KEY must be set.
DEVELOPMENT_CARD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1vcmRlci1jYXJkLWtleSE="


class OrderSettings(ServiceSettings):
    """Everything order is told at start-up."""

    catalog_url: str | None = None
    customer_url: str | None = None
    order_card_key: SecretStr | None = None
    # Placing an order waits for the catalog and customer service at most this long, both at once.
    order_lookup_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # How long a partner has to answer a command before order acts on the silence (docs/order.md).
    order_command_deadline_seconds: float = Field(default=30.0, gt=0)
    # Payment calls a card processor, which may be slow: it gets longer.
    order_payment_deadline_seconds: float = Field(default=60.0, gt=0)
    # How often a command that may be repeated safely is sent before order gives up on it.
    order_max_attempts: int = Field(default=3, ge=1, le=10)
    # How an order's fulfilment runs unless the request asks (docs/sagas.md): order's saga drives it, or
    # the warehouse, payment and loyalty react to each other's events.
    order_fulfilment: FulfilmentStyle = FulfilmentStyle.ORCHESTRATED

    @model_validator(mode="after")
    def _refuse_development_defaults_elsewhere(self) -> OrderSettings:
        if self.environment == "development":
            return self
        key = self.order_card_key
        if key is None or key.get_secret_value() == DEVELOPMENT_CARD_KEY:
            raise ValueError(f"PAVED_ORDER_CARD_KEY must be set when PAVED_ENVIRONMENT={self.environment}")
        if self.catalog_url is None or self.customer_url is None:
            raise ValueError(
                f"PAVED_CATALOG_URL and PAVED_CUSTOMER_URL must be set when PAVED_ENVIRONMENT={self.environment}"
            )
        return self

    @property
    def card_key(self) -> str:
        key = self.order_card_key
        return key.get_secret_value() if key is not None else DEVELOPMENT_CARD_KEY

    @property
    def command_deadline(self) -> timedelta:
        return timedelta(seconds=self.order_command_deadline_seconds)

    @property
    def payment_deadline(self) -> timedelta:
        return timedelta(seconds=self.order_payment_deadline_seconds)
