"""order's composition root: builds its paved Service and wires its store, clients, saga, choreography, API and errors."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from paved import Clock, ForwardedToken, Problem, Service, new_id, utc_now
from paved.sagas import Orchestration, SagaNotCancellableError

from order import __version__, api, contract, partners, tables
from order.cards import CardVault
from order.choreography import handlers as choreography
from order.clients import CatalogOverHttp, CustomersOverHttp
from order.domain import (
    DeliveryAddressNotFoundError,
    IdempotencyKeyReusedError,
    InvalidCardNumberError,
    InvalidOrderError,
    OrderNotFoundError,
)
from order.fulfilment import Deadlines, Progress, fulfilment_saga
from order.lifecycle import OrderNotCancellableError
from order.ports import UpstreamUnavailableError
from order.settings import OrderSettings
from order.store import DatabaseUnitOfWork
from order.use_cases import Orders


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


def new_order_id() -> str:
    """An opaque order id, also valid as the warehouse's, payment's and loyalty's order id."""
    return f"ord-{new_id()}"


def create_service(
    settings: OrderSettings | None = None,
    *,
    catalog_transport: httpx.AsyncBaseTransport | None = None,
    customer_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = utc_now,
    order_ids: Callable[[], str] = new_order_id,
) -> Service:
    """The order service; ``paved serve`` calls this at process start, tests with their settings and edges.

    ``catalog_transport`` and ``customer_transport`` replace the network to those services (tests:
    ``httpx.MockTransport``).
    """
    settings = settings if settings is not None else OrderSettings()
    service = Service(name="order", version=__version__, settings=settings, messaging=tables.messaging)
    service.messaging.own(contract.EVENTS)
    service.messaging.sends(*partners.COMMANDS_SENT)
    requests = service.messaging.send_commands()
    vault = CardVault(settings.card_key)
    uow = DatabaseUnitOfWork(service.database, vault=vault, outbox=service.messaging.outbox)
    saga = fulfilment_saga(
        stores=uow,
        deadlines=Deadlines(command=settings.command_deadline, payment=settings.payment_deadline),
        max_attempts=settings.order_max_attempts,
    )
    orchestration = Orchestration(tables=tables.sagas, requests=requests, database=service.database)
    uow.fulfilment = orchestration.orchestrate(saga, on_change=Progress(stores=uow, clock=clock))
    service.background("order-fulfilment-wake-ups", orchestration.wake_ups())
    choreography.register(service.messaging, stores=uow, clock=clock, tables=tables.sagas)
    timeout = settings.order_lookup_timeout_seconds
    catalog_client = customer_client = None
    if settings.catalog_url:
        catalog_client = service.client("catalog", settings.catalog_url, transport=catalog_transport)
    if settings.customer_url:
        # As the customer, with the token they placed the order with: see CustomersOverHttp.
        customer_client = service.client(
            "customer", settings.customer_url, auth=ForwardedToken(), transport=customer_transport
        )
    catalog = CatalogOverHttp(catalog_client, timeout=timeout)
    customers = CustomersOverHttp(customer_client, timeout=timeout)
    orders = Orders(
        uow=uow,
        catalog=catalog,
        customers=customers,
        clock=clock,
        keyed_hash=vault.keyed_hash,
        fulfilment=settings.order_fulfilment,
        new_order_id=order_ids,
    )
    service.provide(Orders, orders)
    service.include_router(api.router)
    service.app.add_exception_handler(InvalidOrderError, _invalid_order)
    service.map_error(IdempotencyKeyReusedError, status=422, title="Idempotency-Key reused for another request")
    service.map_error(OrderNotFoundError, status=404, title="Order not found")
    service.map_error(OrderNotCancellableError, status=409, title="Order cannot be cancelled")
    service.map_error(SagaNotCancellableError, status=409, title="Order cannot be cancelled")
    service.map_error(UpstreamUnavailableError, status=503, title="Service Unavailable")
    return service
