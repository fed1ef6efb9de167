from __future__ import annotations

import asyncio
import itertools

import pytest

from order.domain import (
    CardNumber,
    DeliveryAddressNotFoundError,
    IdempotencyKeyReusedError,
    OrderNotFoundError,
    OrderRequest,
    RequestedLine,
    UnknownSkuError,
)
from order.facts import OrderPlaced
from order.lifecycle import OrderNotCancellableError, OrderStatus
from order.ports import UpstreamUnavailableError
from order.use_cases import Orders, Reader

from .fakes import VISA, Clock, FakeCatalog, FakeCustomers, FakeUnitOfWork, Rendezvous, keyed_hash


def ann_asks(
    *lines: tuple[str, int], key: str = "key-1", customer: str = "acc_ann", card: CardNumber = VISA
) -> OrderRequest:
    return OrderRequest(
        customer_id=customer,
        idempotency_key=key,
        lines=tuple(RequestedLine(sku, quantity) for sku, quantity in (lines or (("ALB-00001", 2),))),
        delivery_address_id="adr_home",
        card=card,
    )


class Shop:
    """order's use cases over fakes, and the fakes, for one test."""

    def __init__(self, *, rendezvous: Rendezvous | None = None, catalog_only: bool = False) -> None:
        self.uow = FakeUnitOfWork()
        self.store = self.uow.store
        self.catalog = FakeCatalog(rendezvous=rendezvous)
        self.customers = FakeCustomers(rendezvous=None if catalog_only else rendezvous)
        ids = itertools.count(1)
        self.orders = Orders(
            uow=self.uow,
            catalog=self.catalog,
            customers=self.customers,
            clock=Clock(),
            keyed_hash=keyed_hash,
            new_order_id=lambda: f"ord-{next(ids)}",
        )


@pytest.fixture
def shop() -> Shop:
    return Shop()


async def test_placing_stores_the_order_with_its_card_reserves_its_stock_and_announces_it(shop: Shop) -> None:
    """One transaction holds the order, its sealed card, its saga's start and its OrderPlaced."""
    placed = await shop.orders.place(ann_asks(("ALB-00001", 2), ("ALB-00002", 1)))
    assert placed.created
    order = placed.order
    assert order.status is OrderStatus.PLACED
    assert order.delivery.city == "London"
    assert await shop.store.orders.get(order.id) is not None
    assert shop.store.cards.kept == {order.id: VISA}
    assert shop.store.sagas == {order.id: "started"}
    assert [type(f) for f in shop.store.announced] == [OrderPlaced]


async def test_the_catalog_and_the_customer_service_are_asked_at_the_same_time() -> None:
    """Neither lookup waits for the other: each only gets through once both have started."""
    shop = Shop(rendezvous=Rendezvous(2))
    assert (await shop.orders.place(ann_asks())).created


async def test_an_unknown_sku_stores_nothing_and_names_the_sku(shop: Shop) -> None:
    """The order is refused before anything is written."""
    with pytest.raises(UnknownSkuError, match="ALB-99999"):
        await shop.orders.place(ann_asks(("ALB-00001", 1), ("ALB-99999", 1)))
    assert shop.store.orders.rows == {} and shop.store.sagas == {}


async def test_an_address_the_customer_does_not_have_stores_nothing(shop: Shop) -> None:
    """Another customer's address, or none at all, is not a delivery address of this customer's."""
    with pytest.raises(DeliveryAddressNotFoundError):
        await shop.orders.place(ann_asks(customer="acc_bob"))
    assert shop.store.orders.rows == {}


@pytest.mark.parametrize("down", ["catalog", "customers"])
async def test_a_partner_that_does_not_answer_stores_nothing(shop: Shop, down: str) -> None:
    """With the catalog or the customer service away, the order is not placed and nothing is sent."""
    getattr(shop, down).down = True
    with pytest.raises(UpstreamUnavailableError):
        await shop.orders.place(ann_asks())
    assert shop.store.orders.rows == {} and shop.store.sagas == {} and shop.store.cards.kept == {}


async def test_a_retry_gets_the_same_order_without_asking_or_sending_again(shop: Shop) -> None:
    """The same request under the same key answers with the first order; nothing happens twice."""
    first = await shop.orders.place(ann_asks(("ALB-00001", 2), ("ALB-00002", 1)))
    again = await shop.orders.place(ann_asks(("ALB-00002", 1), ("ALB-00001", 2)))
    assert (again.created, again.order.id) == (False, first.order.id)
    assert len(shop.catalog.asked) == 1
    assert len(shop.store.sagas) == 1 and len(shop.store.announced) == 1


async def test_another_request_under_a_used_key_is_refused(shop: Shop) -> None:
    """A key is one order: a different body under it is a client's mistake, not a retry."""
    await shop.orders.place(ann_asks(("ALB-00001", 2)))
    with pytest.raises(IdempotencyKeyReusedError):
        await shop.orders.place(ann_asks(("ALB-00001", 3)))
    assert len(shop.store.orders.rows) == 1


async def test_keys_are_per_customer(shop: Shop) -> None:
    """Two customers who happen to send the same key place two orders."""
    shop.customers.addresses[("acc_bob", "adr_home")] = shop.customers.addresses[("acc_ann", "adr_home")]
    ann = await shop.orders.place(ann_asks())
    bob = await shop.orders.place(ann_asks(customer="acc_bob"))
    assert ann.order.id != bob.order.id and bob.created


async def test_of_two_racing_requests_with_one_key_one_places_and_the_other_gets_its_order() -> None:
    """Both look up at once, past the check for an earlier order; the store's key constraint decides."""
    shop = Shop(rendezvous=Rendezvous(2), catalog_only=True)
    first, second = await asyncio.gather(shop.orders.place(ann_asks()), shop.orders.place(ann_asks()))
    assert len(shop.catalog.asked) == 2  # both got past the check for an earlier order
    assert sorted([first.created, second.created]) == [False, True]
    assert first.order.id == second.order.id
    assert len(shop.store.orders.rows) == 1 and len(shop.store.sagas) == 1


async def test_a_racing_request_with_another_body_under_the_same_key_is_refused() -> None:
    """Losing the race does not make a different request a retry."""
    shop = Shop(rendezvous=Rendezvous(2), catalog_only=True)
    outcomes = await asyncio.gather(
        shop.orders.place(ann_asks(("ALB-00001", 1))),
        shop.orders.place(ann_asks(("ALB-00001", 2))),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["IdempotencyKeyReusedError", "Placed"]


async def test_a_customer_cancels_their_order_and_its_stock_is_released(shop: Shop) -> None:
    """Cancelling before payment ends the order, announces it, and has its saga undo what it did."""
    placed = await shop.orders.place(ann_asks())
    cancelled = await shop.orders.cancel(placed.order.id, customer_id="acc_ann")
    assert cancelled.status is OrderStatus.CANCELLED
    assert shop.store.sagas == {placed.order.id: "cancelled: cancelled by the customer"}
    assert type(shop.store.announced[-1]).__name__ == "OrderCancelled"
    assert shop.store.cards.kept == {}


async def test_nobody_cancels_someone_elses_order(shop: Shop) -> None:
    """Bob is told there is no such order, and Ann's order stays as it was."""
    placed = await shop.orders.place(ann_asks())
    with pytest.raises(OrderNotFoundError):
        await shop.orders.cancel(placed.order.id, customer_id="acc_bob")
    assert (await shop.store.orders.get(placed.order.id)).status is OrderStatus.PLACED


async def test_a_paid_order_is_not_cancelled(shop: Shop) -> None:
    """After payment the refusal names the order's status, and its saga goes on."""
    placed = await shop.orders.place(ann_asks())
    order = await shop.store.orders.get(placed.order.id)
    order.reserve(at=order.placed_at)
    order.pay(at=order.placed_at)
    await shop.store.orders.save(order)
    with pytest.raises(OrderNotCancellableError, match="paid"):
        await shop.orders.cancel(order.id, customer_id="acc_ann")
    assert shop.store.sagas == {order.id: "started"}


async def test_customers_read_their_own_orders_and_admins_anyones(shop: Shop) -> None:
    """Bob cannot see Ann's order or its history; an admin can."""
    placed = await shop.orders.place(ann_asks())
    with pytest.raises(OrderNotFoundError):
        await shop.orders.get(placed.order.id, reader=Reader("acc_bob"))
    with pytest.raises(OrderNotFoundError):
        await shop.orders.history(placed.order.id, reader=Reader("acc_bob"))
    assert (await shop.orders.get(placed.order.id, reader=Reader("acc_root", is_admin=True))).id == placed.order.id
    history = await shop.orders.history(placed.order.id, reader=Reader("acc_ann"))
    assert [entry.event for entry in history] == ["placed"]
