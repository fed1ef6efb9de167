"""The typed registry endpoints take their use cases from."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter

from paved import Provided, Service, ServiceSettings


class Catalogue:
    def __init__(self, albums: list[str]) -> None:
        self.albums = albums


async def test_an_endpoint_gets_what_the_composition_root_provided_by_type() -> None:
    """A use case provided by type reaches an endpoint that asks for that type, with no app.state."""
    service = Service(name="catalog", version="0", settings=ServiceSettings(), database=False)
    service.provide(Catalogue, Catalogue(["ALB-1"]))
    router = APIRouter()

    @router.get("/albums")
    async def albums(catalogue: Annotated[Catalogue, Provided(Catalogue)]) -> list[str]:
        return catalogue.albums

    service.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://t") as client:
        assert (await client.get("/albums")).json() == ["ALB-1"]


def test_a_type_is_provided_once() -> None:
    """Providing a type twice is a mistake of the composition root, refused rather than silently replaced."""
    service = Service(name="catalog", version="0", settings=ServiceSettings(), database=False)
    service.provide(Catalogue, Catalogue([]))
    with pytest.raises(ValueError, match="Catalogue is provided already"):
        service.provide(Catalogue, Catalogue([]))
    with pytest.raises(LookupError, match="nothing provides"):
        service.registry.get(str)
