"""The catalog's composition root: builds its paved Service and wires the API and its errors."""

from __future__ import annotations

from paved import Service, ServiceSettings

from catalog import __version__, api, store
from catalog.contract import EVENTS_STREAM
from catalog.domain import AlbumNotFoundError, InvalidPriceError, SkuAlreadyExistsError


def create_service(settings: ServiceSettings | None = None) -> Service:
    """The catalog service; ``paved serve`` calls this at process start, tests with their settings."""
    service = Service(name="catalog", version=__version__, settings=settings, messaging=store.messaging)
    assert service.messaging is not None
    service.messaging.stream(EVENTS_STREAM, subjects=["catalog.events.>"])
    service.include_router(api.router)
    service.map_error(AlbumNotFoundError, status=404, title="Album not found")
    service.map_error(SkuAlreadyExistsError, status=409, title="Album already exists")
    service.map_error(InvalidPriceError, status=422, title="Price is not valid")
    return service
