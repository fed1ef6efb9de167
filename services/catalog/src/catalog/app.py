"""The catalog's composition root: builds its paved Service and wires its use cases, API and errors."""

from __future__ import annotations

from paved import Clock, Service, ServiceSettings, utc_now

from catalog import __version__, api, contract, store, tables
from catalog.domain import AlbumNotFoundError, InvalidPriceError, SkuAlreadyExistsError
from catalog.use_cases import Catalogue


def create_service(settings: ServiceSettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The catalog service; ``paved serve`` calls this at process start, tests with their settings and clock."""
    service = Service(name="catalog", version=__version__, settings=settings, messaging=tables.messaging)
    service.messaging.own(contract.EVENTS)
    uow = store.DatabaseUnitOfWork(service.database, service.messaging.outbox)
    service.provide(Catalogue, Catalogue(uow=uow, clock=clock))
    service.include_router(api.router)
    service.map_error(AlbumNotFoundError, status=404, title="Album not found")
    service.map_error(SkuAlreadyExistsError, status=409, title="Album already exists")
    service.map_error(InvalidPriceError, status=422, title="Price is not valid")
    return service
