"""The payment service's composition root: builds its paved Service and wires the store, the card processor,
the worker, the command handlers, the reactions to the warehouse's and order's events, the API and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI
from paved import Service
from paved.messaging import Handling

from payment import __version__, api, handlers, reactions, store, tables
from payment.card_keeper import CardKeeper
from payment.cashier import Cashier
from payment.contract import (
    COMMANDS_MAX_AGE_SECONDS,
    COMMANDS_STREAM,
    COMMANDS_SUBJECTS,
    EVENTS_STREAM,
    EVENTS_SUBJECTS,
)
from payment.domain import PaymentNotFoundError
from payment.partners import (
    ORDER_CANCELLED_SUBJECT,
    ORDER_EVENTS_STREAM,
    ORDER_EVENTS_SUBJECTS,
    ORDER_REJECTED_SUBJECT,
    STOCK_RESERVED_SUBJECT,
    WAREHOUSE_EVENTS_STREAM,
    WAREHOUSE_EVENTS_SUBJECTS,
)
from payment.ports import Clock, PaymentProvider, Store
from payment.provider import HttpPaymentProvider
from payment.settings import PaymentSettings
from payment.vault import AesGcmVault
from payment.worker import Worker


def utc_now() -> datetime:
    """The wall clock, in UTC: the clock the service runs on outside tests."""
    return datetime.now(UTC)


def _running_beside(*parts: Callable[[], AbstractAsyncContextManager[None]]) -> APIRouter:
    """A router whose lifespan runs ``parts``, inside the service's (so with its database and broker up).

    paved's Service runs steps at start (``on_start``) but none at stop, and the worker must stop before
    the database does; FastAPI runs an included router's lifespan nested in the app's, which does both.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for part in parts:
                await stack.enter_async_context(part())
            yield

    return APIRouter(lifespan=lifespan)


def create_service(
    settings: PaymentSettings | None = None, *, provider: PaymentProvider | None = None, clock: Clock = utc_now
) -> Service:
    """The payment service; ``paved serve`` calls this at process start, tests with their settings,
    processor and clock.

    Its worker runs in the app's lifespan (``service.app.router.lifespan_context``, what uvicorn runs),
    not in ``service.running()``, which starts the database and broker only.
    """
    settings = settings if settings is not None else PaymentSettings()
    service = Service(name="payment", version=__version__, settings=settings, messaging=tables.messaging)
    assert service.messaging is not None
    outbox = service.messaging.outbox
    service.messaging.stream(EVENTS_STREAM, subjects=[EVENTS_SUBJECTS])
    # The payment service owns its command stream: whoever sends it commands finds it declared.
    service.messaging.stream(COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS], max_age_seconds=COMMANDS_MAX_AGE_SECONDS)
    commands = service.messaging.consumer("payment-commands", stream=COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS])
    # The warehouse and order own these streams; they are declared here too, exactly as their owners declare
    # them, because `paved up` prepares services in name order and a consumer needs its stream to exist.
    service.messaging.stream(WAREHOUSE_EVENTS_STREAM, subjects=[WAREHOUSE_EVENTS_SUBJECTS])
    service.messaging.stream(ORDER_EVENTS_STREAM, subjects=[ORDER_EVENTS_SUBJECTS])
    # Only the subjects of the events payment reacts to: nothing else is sent to it, to be parked as unknown.
    warehouse_events = service.messaging.consumer(
        "payment-warehouse-events", stream=WAREHOUSE_EVENTS_STREAM, subjects=[STOCK_RESERVED_SUBJECT]
    )
    order_events = service.messaging.consumer(
        "payment-order-events", stream=ORDER_EVENTS_STREAM, subjects=[ORDER_CANCELLED_SUBJECT, ORDER_REJECTED_SUBJECT]
    )

    http_provider = None
    if provider is None:
        api_key = settings.payment_provider_api_key
        provider = http_provider = HttpPaymentProvider(
            settings.payment_provider_url,
            timeout=settings.payment_provider_timeout_seconds,
            api_key=api_key.get_secret_value() if api_key else None,
        )
    vault = AesGcmVault(settings.card_key)
    cashier = Cashier(
        uow=store.DatabaseUnitOfWork(service.database, outbox, clock=clock),
        provider=provider,
        vault=vault,
        policy=settings.retry_policy,
        lease=settings.claim_lease,
        clock=clock,
    )
    keeper = CardKeeper(cashier=cashier, vault=vault, clock=clock)
    worker = Worker(cashier, concurrency=settings.payment_worker_concurrency)

    def open_store(handling: Handling) -> Store:
        # The worker is woken once the message is committed, not before: it would find nothing yet.
        store.after_commit(handling.session, worker.wake)
        return store.DatabaseStore(handling.session, handling.outbox, clock=clock)

    handlers.register(commands, cashier=cashier, keeper=keeper, open_store=open_store)
    reactions.register(warehouse_events, order_events, keeper=keeper, open_store=open_store)
    service.include_router(_running_beside(*([http_provider.connected] if http_provider else []), worker.running))
    service.include_router(api.router)
    service.map_error(PaymentNotFoundError, status=404, title="Payment not found")
    return service
