"""What order's use cases need from outside, as small Protocols.

``clients.py`` implements the catalog and customer ports over HTTP, ``store.py`` the store and its unit
of work over the database and the outbox; the unit tests implement them in memory
(``tests/unit/fakes.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from order.domain import CardNumber, CatalogItem, DeliveryAddress, FulfilmentStyle
from order.facts import Fact
from order.lifecycle import HistoryEntry, Order


class UpstreamUnavailableError(Exception):
    """A service an order needs at placing time did not answer in time, or not sensibly: nothing was stored."""


class Catalog(Protocol):
    async def items(self, skus: Collection[str]) -> dict[str, CatalogItem]:
        """The albums of ``skus`` the catalog sells, at today's prices; an unknown SKU is left out.

        Raises ``UpstreamUnavailableError`` when the catalog does not answer in time.
        """
        ...


class Customers(Protocol):
    async def address(self, customer_id: str, address_id: str) -> DeliveryAddress | None:
        """The customer's delivery address, or None if they have none by that id.

        Raises ``UpstreamUnavailableError`` when the customer service does not answer in time.
        """
        ...


@dataclass(frozen=True)
class OrderCursor:
    """Where a page of a customer's orders (newest first) ends."""

    placed_at: datetime
    order_id: str


class OrderRepository(Protocol):
    async def add(self, order: Order) -> bool:
        """Store a new order with its history; False, storing nothing, if its customer used its key already."""
        ...

    async def get(self, order_id: str, *, for_update: bool = False) -> Order:
        """The order (``OrderNotFoundError`` if none); ``for_update`` holds it until the transaction ends."""
        ...

    async def by_key(self, customer_id: str, idempotency_key: str) -> Order | None:
        """The order the customer placed with ``idempotency_key``, if any."""
        ...

    async def fulfilment_of(self, order_id: str) -> FulfilmentStyle | None:
        """How the order is fulfilled, or None if there is no such order (cheaper than ``get``)."""
        ...

    async def save(self, order: Order) -> None:
        """Store the order's new status and append its new history entries."""
        ...

    async def of_customer(self, customer_id: str, *, after: OrderCursor | None, limit: int) -> list[Order]:
        """The customer's orders, newest first, starting after ``after``."""
        ...

    async def history(self, order_id: str) -> list[HistoryEntry]:
        """Everything that happened to the order, oldest first."""
        ...


class CardStore(Protocol):
    """Card numbers, held only until payment has answered for their order."""

    async def keep(self, order_id: str, card: CardNumber) -> None:
        """Keep the order's card (sealed) until ``forget``."""
        ...

    async def card_of(self, order_id: str) -> CardNumber | None:
        """The order's card, if it is still kept."""
        ...

    async def forget(self, order_id: str) -> None:
        """Delete the order's card; nothing happens if none is kept."""
        ...


class Store(Protocol):
    """order's tables, facts and fulfilment within one transaction: all of it commits, or none."""

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def cards(self) -> CardStore: ...

    async def announce(self, fact: Fact) -> None:
        """Publish ``fact`` on order's events."""
        ...

    async def hand_card_to_payment(self, order: Order, card: CardNumber) -> None:
        """Send payment the card of a choreographed order, to charge once its stock is reserved."""
        ...

    async def start_fulfilment(self, order: Order) -> None:
        """Start the order's fulfilment saga: its first command leaves if the transaction commits."""
        ...

    async def cancel_fulfilment(self, order: Order, *, reason: str) -> None:
        """Have the order's saga undo what it did (paved's rules: it waits for the step in hand)."""
        ...


class UnitOfWork(Protocol):
    def read(self) -> AbstractAsyncContextManager[Store]:
        """A store for reading, in a transaction that changes nothing."""
        ...

    def write(self) -> AbstractAsyncContextManager[Store]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...
