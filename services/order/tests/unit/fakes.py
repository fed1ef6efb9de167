"""In-memory stand-ins for order's ports, shared by the unit tests."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import cast

import paved.testing
from sqlalchemy.ext.asyncio import AsyncSession

from order.domain import CardNumber, CatalogItem, DeliveryAddress, FulfilmentStyle, Money, OrderNotFoundError
from order.facts import Fact
from order.lifecycle import HistoryEntry, Order
from order.ports import OrderCursor, UpstreamUnavailableError

ANNS_ADDRESS = DeliveryAddress(
    address_id="adr_home", name="Ann Smith", lines=("1 High Street",), city="London", postcode="N1 1AA", country="GB"
)
CATALOG = {
    "ALB-00001": CatalogItem("ALB-00001", "Blue Train", "John Coltrane", Money(1299, "GBP")),
    "ALB-00002": CatalogItem("ALB-00002", "Kind of Blue", "Miles Davis", Money(999, "GBP")),
}
VISA = CardNumber("4242424242424242")
# Where the code under test passes a session on to the stores: the fakes' stores need none.
NO_SESSION = cast(AsyncSession, None)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def keyed_hash(data: bytes) -> str:
    """A stand-in for the vault's HMAC: equal for equal data is all the use cases rely on."""
    return data.hex()


class FakeOrders:
    def __init__(self) -> None:
        self.rows: dict[str, Order] = {}
        self.entries: dict[str, list[HistoryEntry]] = {}

    async def add(self, order: Order) -> bool:
        key = (order.customer_id, order.placement.idempotency_key)
        if any((row.customer_id, row.placement.idempotency_key) == key for row in self.rows.values()):
            return False
        self._append(order)  # as the database's: what is stored is no longer new
        self.rows[order.id] = copy.deepcopy(order)
        return True

    async def get(self, order_id: str, *, for_update: bool = False) -> Order:
        if order_id not in self.rows:
            raise OrderNotFoundError(order_id)
        return copy.deepcopy(self.rows[order_id])

    async def fulfilment_of(self, order_id: str) -> FulfilmentStyle | None:
        return self.rows[order_id].fulfilment if order_id in self.rows else None

    async def by_key(self, customer_id: str, idempotency_key: str) -> Order | None:
        found = [
            o
            for o in self.rows.values()
            if (o.customer_id, o.placement.idempotency_key) == (customer_id, idempotency_key)
        ]
        return copy.deepcopy(found[0]) if found else None

    async def save(self, order: Order) -> None:
        self._append(order)
        self.rows[order.id] = copy.deepcopy(order)

    async def of_customer(self, customer_id: str, *, after: OrderCursor | None, limit: int) -> list[Order]:
        mine = sorted(
            (o for o in self.rows.values() if o.customer_id == customer_id),
            key=lambda o: (o.placed_at, o.id),
            reverse=True,
        )
        if after is not None:
            mine = [o for o in mine if (o.placed_at, o.id) < (after.placed_at, after.order_id)]
        return copy.deepcopy(mine[:limit])

    async def history(self, order_id: str) -> list[HistoryEntry]:
        return list(self.entries.get(order_id, []))

    def _append(self, order: Order) -> None:
        self.entries.setdefault(order.id, []).extend(order.new_history)
        order.new_history.clear()


class FakeCards:
    def __init__(self) -> None:
        self.kept: dict[str, CardNumber] = {}

    async def keep(self, order_id: str, card: CardNumber) -> None:
        self.kept[order_id] = card

    async def card_of(self, order_id: str) -> CardNumber | None:
        return self.kept.get(order_id)

    async def forget(self, order_id: str) -> None:
        self.kept.pop(order_id, None)


class FakeStore:
    """Orders, cards, the facts published and the sagas started and cancelled, in memory."""

    def __init__(self) -> None:
        self.orders = FakeOrders()
        self.cards = FakeCards()
        self.announced: list[Fact] = []
        self.sagas: dict[str, str] = {}  # order id -> "started" | "cancelled: <reason>"
        self.cards_handed: dict[str, CardNumber] = {}  # choreographed orders' cards, sent to payment

    async def announce(self, fact: Fact) -> None:
        self.announced.append(fact)

    async def hand_card_to_payment(self, order: Order, card: CardNumber) -> None:
        self.cards_handed[order.id] = card

    async def start_fulfilment(self, order: Order) -> None:
        self.sagas[order.id] = "started"

    async def cancel_fulfilment(self, order: Order, *, reason: str) -> None:
        self.sagas[order.id] = f"cancelled: {reason}"


class FakeUnitOfWork(paved.testing.FakeUnitOfWork[FakeStore]):
    """Transactions over one FakeStore (paved's fake: a write that raises leaves the store as it was)."""

    def __init__(self) -> None:
        super().__init__(FakeStore())

    def store_in(self, session: AsyncSession) -> FakeStore:
        """The store in the transaction paved opened for a saga's change or a partner's event."""
        return self.store


class Rendezvous:
    """Lets its parties on only once all have arrived: calls made one after the other never get through."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.all_here = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.parties:
            self.all_here.set()
        await asyncio.wait_for(self.all_here.wait(), timeout=1.0)


class FakeCatalog:
    def __init__(self, items: dict[str, CatalogItem] | None = None, *, rendezvous: Rendezvous | None = None) -> None:
        self.albums = dict(CATALOG if items is None else items)
        self.rendezvous = rendezvous
        self.down = False
        self.asked: list[list[str]] = []

    async def items(self, skus: Collection[str]) -> dict[str, CatalogItem]:
        self.asked.append(list(skus))
        if self.rendezvous is not None:
            await self.rendezvous.arrive()
        if self.down:
            raise UpstreamUnavailableError("the catalog did not answer")
        return {sku: self.albums[sku] for sku in skus if sku in self.albums}


class FakeCustomers:
    def __init__(self, *, rendezvous: Rendezvous | None = None) -> None:
        self.addresses: dict[tuple[str, str], DeliveryAddress] = {("acc_ann", "adr_home"): ANNS_ADDRESS}
        self.rendezvous = rendezvous
        self.down = False

    async def address(self, customer_id: str, address_id: str) -> DeliveryAddress | None:
        if self.rendezvous is not None:
            await self.rendezvous.arrive()
        if self.down:
            raise UpstreamUnavailableError("the customer service did not answer")
        return self.addresses.get((customer_id, address_id))
