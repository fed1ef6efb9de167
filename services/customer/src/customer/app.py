"""The customer service's composition root: builds its paved Service and wires its use cases, API and errors."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from paved import Clock, Problem, Service, ServiceSettings, utc_now

from customer import __version__, api, contract, store, tables
from customer.domain import (
    AddressNotFoundError,
    InvalidDetailsError,
    ProfileNotFoundError,
    ProfileRequiredError,
    TooManyAddressesError,
)
from customer.use_cases import Customers


async def _invalid_details(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidDetailsError)
    # The same shape as paved's validation problems, so clients find the field where they always do.
    field = f"body.{exc.field}"
    return Problem(
        422, "Request is not valid", f"{field}: {exc}", errors=[{"field": field, "message": str(exc)}]
    ).response(request)


def create_service(settings: ServiceSettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The customer service; ``paved serve`` calls this at process start, tests with their settings and clock."""
    service = Service(name="customer", version=__version__, settings=settings, messaging=tables.messaging)
    service.messaging.own(contract.EVENTS)
    uow = store.DatabaseUnitOfWork(service.database, service.messaging.outbox)
    service.provide(Customers, Customers(uow=uow, clock=clock))
    service.include_router(api.router)
    service.map_error(ProfileNotFoundError, status=404, title="Profile not found")
    service.map_error(AddressNotFoundError, status=404, title="Address not found")
    service.map_error(ProfileRequiredError, status=409, title="Profile required")
    service.map_error(TooManyAddressesError, status=409, title="Too many addresses")
    service.app.add_exception_handler(InvalidDetailsError, _invalid_details)
    return service
