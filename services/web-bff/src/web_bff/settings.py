"""web-bff's settings: paved's, plus where each service it calls answers, and the deadlines of its calls.

All from ``PAVED_*`` variables, read once at start-up, e.g.::

    PAVED_CATALOG_URL=http://127.0.0.1:8101              # set by `paved up`, one per service
    PAVED_WEB_BFF_CALL_TIMEOUT_SECONDS=2                 # a call the page cannot do without
    PAVED_WEB_BFF_OPTIONAL_CALL_TIMEOUT_SECONDS=0.8      # a part the page renders without
"""

from __future__ import annotations

from dataclasses import dataclass

from paved import ServiceSettings
from pydantic import Field, model_validator

DOWNSTREAM_SERVICES = ("identity", "catalog", "customer", "order", "warehouse", "loyalty", "payment")


@dataclass(frozen=True)
class Deadlines:
    """How long the BFF waits for one call, by how much the page needs its answer (seconds)."""

    required: float
    optional: float
    checkout: float


class WebBffSettings(ServiceSettings):
    """Everything web-bff is told at start-up."""

    identity_url: str | None = None
    catalog_url: str | None = None
    customer_url: str | None = None
    order_url: str | None = None
    warehouse_url: str | None = None
    loyalty_url: str | None = None
    payment_url: str | None = None
    web_bff_call_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # Stock levels, points, a payment's state: the page shows "unknown" rather than wait long for them.
    web_bff_optional_call_timeout_seconds: float = Field(default=0.8, gt=0, le=30)
    # Placing an order waits for order, which first asks the catalog and the customer service.
    web_bff_checkout_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @model_validator(mode="after")
    def _refuse_missing_services_outside_development(self) -> WebBffSettings:
        if self.environment == "development":
            # `paved serve` of the BFF alone still starts: calls to a service it was not told of answer 503.
            return self
        missing = [name for name in DOWNSTREAM_SERVICES if self.url_of(name) is None]
        if missing:
            names = ", ".join(f"PAVED_{name.upper()}_URL" for name in missing)
            raise ValueError(f"{names} must be set when PAVED_ENVIRONMENT={self.environment}")
        return self

    def url_of(self, service: str) -> str | None:
        """Where ``service`` (one of :data:`DOWNSTREAM_SERVICES`) answers, if the BFF was told."""
        url: str | None = getattr(self, f"{service}_url")
        return url

    @property
    def deadlines(self) -> Deadlines:
        return Deadlines(
            required=self.web_bff_call_timeout_seconds,
            optional=self.web_bff_optional_call_timeout_seconds,
            checkout=self.web_bff_checkout_timeout_seconds,
        )
