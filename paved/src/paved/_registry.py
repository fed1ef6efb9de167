"""A typed registry of what a service's composition root made (its use cases), for its endpoints.

svcs-style: the composition root registers one value per type (``service.provide(Orders, orders)``)
and an endpoint asks for it by type, with no ``app.state`` and no cast::

    OrdersDep = Annotated[Orders, Provided(Orders)]

    @router.post("/orders")
    async def place_order(body: PlaceOrder, orders: OrdersDep) -> OrderOut: ...
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from fastapi import Depends, Request

T = TypeVar("T")


class Registry:
    """One value per type; registering a type twice is a mistake of the composition root, and refused."""

    def __init__(self) -> None:
        self._values: dict[type[Any], object] = {}

    def provide(self, kind: type[T], value: T) -> T:
        if kind in self._values:
            raise ValueError(f"{kind.__qualname__} is provided already")
        self._values[kind] = value
        return value

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self._values[kind])
        except KeyError:
            raise LookupError(f"nothing provides {kind.__qualname__}: the composition root must provide it") from None


def Provided(kind: type[T]) -> Any:  # noqa: N802 - reads as a type in ``Annotated[T, Provided(T)]``
    """The FastAPI dependency that gives an endpoint the serving service's ``kind``."""

    async def provided(request: Request) -> T:
        registry: Registry = request.app.state.paved.registry
        return registry.get(kind)

    return Depends(provided)
