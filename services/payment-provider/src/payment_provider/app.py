"""The processor's composition root: builds its paved Service and wires the API, its behaviour and errors."""

from __future__ import annotations

from paved import Service

from payment_provider import __version__, api
from payment_provider.behaviour import Fates
from payment_provider.domain import (
    ChargeNotFoundError,
    ChargeNotRefundableError,
    IdempotencyKeyReusedError,
    InvalidCardNumberError,
    KeyInUseError,
    RefundExceedsChargeError,
)
from payment_provider.settings import ProviderSettings

# Each refusal of the domain, as the problem response that answers it.
_PROBLEMS: list[tuple[type[Exception], int, str]] = [
    (ChargeNotFoundError, 404, "Charge not found"),
    (ChargeNotRefundableError, 409, "Charge cannot be refunded"),
    (RefundExceedsChargeError, 409, "Refund exceeds what is left of the charge"),
    (KeyInUseError, 409, "Idempotency key in use"),
    (IdempotencyKeyReusedError, 422, "Idempotency key reused for a different request"),
    (InvalidCardNumberError, 422, "Card number is not valid"),
]


def create_service(settings: ProviderSettings | None = None) -> Service:
    """The processor; ``paved serve`` calls this at process start, tests with their settings."""
    settings = settings if settings is not None else ProviderSettings()
    service = Service(name="payment-provider", version=__version__, settings=settings)
    # One sequence of fates per process: with a seed, the n-th request's fate is the same every run.
    service.app.state.fates = Fates(settings.behaviour)
    service.include_router(api.router)
    for error, status, title in _PROBLEMS:
        service.map_error(error, status=status, title=title)
    return service
