"""order's composition root: builds its paved Service and wires its store, lookups, saga, API and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from paved import Problem, Service
from paved.context import new_id
from paved.sagas import Orchestration, SagaNotCancellableError

from order import __version__, api, tables
from order.cards import CardVault
from order.contract import EVENTS_STREAM, EVENTS_SUBJECTS
from order.domain import (
    DeliveryAddressNotFoundError,
    IdempotencyKeyReusedError,
    InvalidCardNumberError,
    InvalidOrderError,
    OrderNotFoundError,
)
from order.lifecycle import OrderNotCancellableError
from order.lookups import CatalogOverHttp, CustomersOverHttp
from order.orders import Orders
from order.ports import UpstreamUnavailableError
from order.choreography import Choreography
from order.fulfilment import Deadlines, Progress, fulfilment_saga
from order.settings import OrderSettings
from order.transactions import DatabaseUnitOfWork


def _field_of(error: InvalidOrderError) -> str:
    if isinstance(error, DeliveryAddressNotFoundError):
        return "body.delivery_address_id"
    if isinstance(error, InvalidCardNumberError):
        return "body.payment.card_number"
    return "body.lines"


async def _invalid_order(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidOrderError)
    # The same shape as paved's validation problems, so clients find the field where they always do.
    field = _field_of(exc)
    return Problem(
        422, "Order is not valid", f"{field}: {exc}", errors=[{"field": field, "message": str(exc)}]
    ).response(request)


Clock = Callable[[], datetime]
"""What time it is, timezone-aware UTC; tests pass one of their own."""


def utc_now() -> datetime:
    """The system's time, in UTC."""
    return datetime.now(UTC)


def new_order_id() -> str:
    """An opaque order id, also valid as the warehouse's, payment's and loyalty's order id."""
    return f"ord-{new_id()}"


def create_service(
    settings: OrderSettings | None = None,
    *,
    catalog_transport: httpx.AsyncBaseTransport | None = None,
    customer_transport: httpx.AsyncBaseTransport | None = None,
    credentials: httpx.Auth | None = None,
    clock: Clock = utc_now,
    order_ids: Callable[[], str] = new_order_id,
) -> Service:
    """The order service; ``paved serve`` calls this at process start, tests with their settings and edges.

    ``catalog_transport`` and ``customer_transport`` replace the network to those services, and
    ``credentials`` the service's own client credentials (tests: ``httpx.MockTransport``).
    """
    settings = settings if settings is not None else OrderSettings()
    service = Service(name="order", version=__version__, settings=settings, messaging=tables.messaging)
    assert service.messaging is not None
    service.messaging.stream(EVENTS_STREAM, subjects=[EVENTS_SUBJECTS])
    requests = service.messaging.send_commands(service="order")
    vault = CardVault(settings.card_key)
    uow = DatabaseUnitOfWork(service.database, vault=vault, outbox=service.messaging.outbox)
    saga = fulfilment_saga(
        vault=vault,
        deadlines=Deadlines(command=settings.command_deadline, payment=settings.payment_deadline),
        max_attempts=settings.order_max_attempts,
    )
    orchestration = Orchestration(tables=tables.sagas, requests=requests, database=service.database)
    uow.fulfilment = orchestration.orchestrate(saga, on_change=Progress(stores=uow, clock=clock))
    service.messaging.keep_running("order-fulfilment-wake-ups", orchestration.watch)
    Choreography(stores=uow, clock=clock).take_part(service.messaging, tables=tables.sagas)
    timeout = settings.order_lookup_timeout_seconds
    catalog = CatalogOverHttp(settings.catalog_url, timeout=timeout, transport=catalog_transport)
    customers = CustomersOverHttp(
        settings.customer_url,
        timeout=timeout,
        auth=credentials if credentials is not None else service.credentials,
        transport=customer_transport,
    )
    service.on_stop(catalog.aclose)
    service.on_stop(customers.aclose)
    service.app.state.orders = Orders(
        uow=uow,
        catalog=catalog,
        customers=customers,
        clock=clock,
        keyed_hash=vault.keyed_hash,
        fulfilment=settings.order_fulfilment,
        new_order_id=order_ids,
    )
    service.include_router(api.router)
    service.app.add_exception_handler(InvalidOrderError, _invalid_order)
    service.map_error(IdempotencyKeyReusedError, status=422, title="Idempotency-Key reused for another request")
    service.map_error(OrderNotFoundError, status=404, title="Order not found")
    service.map_error(OrderNotCancellableError, status=409, title="Order cannot be cancelled")
    service.map_error(SagaNotCancellableError, status=409, title="Order cannot be cancelled")
    service.map_error(UpstreamUnavailableError, status=503, title="Service Unavailable")
    return service
