"""The processor's composition root: builds its paved Service and wires the use cases, the API, its
behaviour and errors."""

from __future__ import annotations

from paved import Clock, Service, utc_now

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
from payment_provider.store import DatabaseUnitOfWork
from payment_provider.use_cases import Processor

# Each refusal of the domain, as the problem response that answers it.
_PROBLEMS: list[tuple[type[Exception], int, str]] = [
    (ChargeNotFoundError, 404, "Charge not found"),
    (ChargeNotRefundableError, 409, "Charge cannot be refunded"),
    (RefundExceedsChargeError, 409, "Refund exceeds what is left of the charge"),
    (KeyInUseError, 409, "Idempotency key in use"),
    (IdempotencyKeyReusedError, 422, "Idempotency key reused for a different request"),
    (InvalidCardNumberError, 422, "Card number is not valid"),
]


def create_service(settings: ProviderSettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The processor; ``paved serve`` calls this at process start, tests with their settings.

    It keeps a database and uses no broker (a third party's processor knows nothing of MusicCorp's): it is
    ready when its database answers.
    """
    settings = settings if settings is not None else ProviderSettings()
    service = Service(name="payment-provider", version=__version__, settings=settings)
    service.provide(ProviderSettings, settings)
    # One sequence of fates per process: with a seed, the n-th request's fate is the same every run.
    service.provide(Fates, Fates(settings.behaviour))
    processor = Processor(
        uow=DatabaseUnitOfWork(service.database), declined_cards=settings.provider_declined_cards, clock=clock
    )
    service.provide(Processor, processor)
    service.include_router(api.router)
    for error, status, title in _PROBLEMS:
        service.map_error(error, status=status, title=title)
    return service
