"""order's service layer (``Orders``): what customers (and admins) do with orders: place one, cancel it,
read them. Each use case is one unit of work that checks, changes and announces.

Placing is idempotent per customer and ``Idempotency-Key``: the key and a keyed fingerprint of the request
are stored with the order, under a unique constraint on (customer, key). A retry of the same request
finds its order and gets it back; another request under the same key is refused; of two that race, the
constraint lets one insert and the other finds what that one stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from paved import Clock

from order.domain import (
    CatalogItem,
    DeliveryAddress,
    DeliveryAddressNotFoundError,
    FulfilmentStyle,
    OrderNotFoundError,
    OrderRequest,
)
from order.lifecycle import HistoryEntry, Order
from order.ports import Catalog, Customers, OrderCursor, Store, UnitOfWork, UpstreamUnavailableError


@dataclass(frozen=True)
class Reader:
    """Who reads orders: a customer reads their own; an admin reads anyone's."""

    subject: str
    is_admin: bool = False

    def may_read(self, order: Order) -> bool:
        """Whether this reader may see ``order`` at all."""
        return self.is_admin or order.customer_id == self.subject


@dataclass(frozen=True)
class Placed:
    """The order a request placed, or found placed by an earlier request with its key."""

    order: Order
    created: bool  # False: a retry, answered with the order the first request placed


class Orders:
    """order's use cases, each in its own transaction."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        catalog: Catalog,
        customers: Customers,
        clock: Clock,
        keyed_hash: Callable[[bytes], str],
        new_order_id: Callable[[], str],
        fulfilment: FulfilmentStyle = FulfilmentStyle.ORCHESTRATED,
    ) -> None:
        self.uow = uow
        self.catalog = catalog
        self.customers = customers
        self.clock = clock
        self.fulfilment = fulfilment
        self.keyed_hash = keyed_hash
        self.new_order_id = new_order_id

    async def place(self, request: OrderRequest) -> Placed:
        """Place the order at today's prices and start its fulfilment; a retry gets the same order."""
        fingerprint = request.fingerprint(self.keyed_hash)
        async with self.uow.read() as store:
            earlier = await store.orders.by_key(request.customer_id, request.idempotency_key)
        if earlier is not None:
            earlier.placement.check_replay(fingerprint)
            return Placed(earlier, created=False)
        # Asked outside any transaction: no lock or connection is held while others answer.
        items, delivery = await self._look_up(request)
        if delivery is None:
            raise DeliveryAddressNotFoundError(request.delivery_address_id)
        order = Order.place(
            request,
            order_id=self.new_order_id(),
            fingerprint=fingerprint,
            catalog=items,
            delivery=delivery,
            at=self.clock(),
            fulfilment=request.fulfilment or self.fulfilment,
        )
        async with self.uow.write() as store:
            if await store.orders.add(order):
                # The order, its fulfilment's start and its OrderPlaced commit together or not at all.
                if order.fulfilment is FulfilmentStyle.ORCHESTRATED:
                    await store.cards.keep(order.id, request.card)  # until the saga asks payment
                    await store.start_fulfilment(order)
                else:
                    await store.hand_card_to_payment(order, request.card)  # order keeps no card at all
                await announce(store, order)  # OrderPlaced (and FulfilmentRequested, when choreographed)
                return Placed(order, created=True)
            # The same key won a race a moment ago: answer as a retry would be.
            earlier = await store.orders.by_key(request.customer_id, request.idempotency_key)
        assert earlier is not None, "the key's order was there to conflict with"
        earlier.placement.check_replay(fingerprint)
        return Placed(earlier, created=False)

    async def _look_up(self, request: OrderRequest) -> tuple[dict[str, CatalogItem], DeliveryAddress | None]:
        """The catalog's prices and the customer's address, asked at once (each client has its deadline)."""
        try:
            async with asyncio.TaskGroup() as group:
                items = group.create_task(self.catalog.items(request.skus))
                delivery = group.create_task(self.customers.address(request.customer_id, request.delivery_address_id))
        except* UpstreamUnavailableError as unavailable:
            # One is enough to say why; the other was cancelled or failed alike.
            raise unavailable.exceptions[0] from None
        return items.result(), delivery.result()

    async def cancel(self, order_id: str, *, customer_id: str) -> Order:
        """Cancel the customer's order while its payment is not taken; its stock is released."""
        async with self.uow.write() as store:
            order = await store.orders.get(order_id, for_update=True)
            if order.customer_id != customer_id:
                raise OrderNotFoundError(order_id)  # someone else's order is none of theirs to know of
            order.cancel(at=self.clock())
            await store.orders.save(order)
            await announce(store, order)
            if order.fulfilment is FulfilmentStyle.ORCHESTRATED:
                await store.cards.forget(order.id)  # payment is no longer asked for
                await store.cancel_fulfilment(order, reason="cancelled by the customer")
            # A choreographed order's partners react to its OrderCancelled, announced above.
        return order

    async def get(self, order_id: str, *, reader: Reader) -> Order:
        """The order, if ``reader`` may see it; else ``OrderNotFoundError``, as if there were none."""
        async with self.uow.read() as store:
            order = await store.orders.get(order_id)
        if not reader.may_read(order):
            raise OrderNotFoundError(order_id)
        return order

    async def history(self, order_id: str, *, reader: Reader) -> list[HistoryEntry]:
        """Everything that happened to the order, oldest first, if ``reader`` may see it."""
        async with self.uow.read() as store:
            order = await store.orders.get(order_id)
            if not reader.may_read(order):
                raise OrderNotFoundError(order_id)
            return await store.orders.history(order_id)

    async def of_customer(self, customer_id: str, *, after: OrderCursor | None, limit: int) -> list[Order]:
        """A page of the customer's orders, newest first."""
        async with self.uow.read() as store:
            return await store.orders.of_customer(customer_id, after=after, limit=limit)


async def announce(store: Store, order: Order) -> None:
    """Publish the facts ``order`` recorded, in ``store``'s transaction."""
    for fact in order.facts:
        await store.announce(fact)
    order.facts.clear()
