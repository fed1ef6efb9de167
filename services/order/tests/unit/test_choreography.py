"""order's part in the choreographed fulfilment, without I/O: placing, cancelling, following events."""

from __future__ import annotations

import itertools

import pytest
from paved.testing import handling_of

from order import partners
from order.choreography.following import follow
from order.choreography.handlers import Choreography
from order.domain import FulfilmentStyle, OrderRequest, RequestedLine
from order.facts import FulfilmentRequested, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected
from order.lifecycle import Order, OrderStatus
from order.use_cases import Orders

from .examples import AT, order_in
from .fakes import VISA, Clock, FakeCatalog, FakeCustomers, FakeUnitOfWork, keyed_hash


def choreographed(status: OrderStatus) -> Order:
    order = order_in(status)
    order.fulfilment = FulfilmentStyle.CHOREOGRAPHED
    return order


def orders(uow: FakeUnitOfWork, default: FulfilmentStyle = FulfilmentStyle.ORCHESTRATED) -> Orders:
    ids = itertools.count(1)
    return Orders(
        uow=uow,
        catalog=FakeCatalog(),
        customers=FakeCustomers(),
        clock=Clock(),
        keyed_hash=keyed_hash,
        new_order_id=lambda: f"ord-{next(ids)}",
        fulfilment=default,
    )


def asks(style: FulfilmentStyle | None) -> OrderRequest:
    return OrderRequest("acc_ann", "key-1", (RequestedLine("ALB-00001", 2),), "adr_home", VISA, fulfilment=style)


async def test_a_choreographed_order_asks_its_partners_by_an_event_and_keeps_no_card() -> None:
    """No saga starts; payment is handed the card; OrderPlaced and FulfilmentRequested are announced."""
    uow = FakeUnitOfWork()
    placed = await orders(uow).place(asks(FulfilmentStyle.CHOREOGRAPHED))
    assert placed.order.fulfilment is FulfilmentStyle.CHOREOGRAPHED
    assert uow.store.sagas == {} and uow.store.cards.kept == {}
    assert uow.store.cards_handed == {placed.order.id: VISA}
    assert [type(f) for f in uow.store.announced] == [OrderPlaced, FulfilmentRequested]


@pytest.mark.parametrize(
    ("default", "asked", "expected"),
    [
        (FulfilmentStyle.ORCHESTRATED, None, FulfilmentStyle.ORCHESTRATED),
        (FulfilmentStyle.CHOREOGRAPHED, None, FulfilmentStyle.CHOREOGRAPHED),
        (FulfilmentStyle.CHOREOGRAPHED, FulfilmentStyle.ORCHESTRATED, FulfilmentStyle.ORCHESTRATED),
    ],
)
async def test_the_style_is_the_settings_unless_the_request_asks(
    default: FulfilmentStyle, asked: FulfilmentStyle | None, expected: FulfilmentStyle
) -> None:
    uow = FakeUnitOfWork()
    placed = await orders(uow, default).place(asks(asked))
    assert placed.order.fulfilment is expected
    assert bool(uow.store.sagas) is (expected is FulfilmentStyle.ORCHESTRATED)


async def test_cancelling_a_choreographed_order_only_announces_it() -> None:
    """The partners react to OrderCancelled; there is no saga to cancel."""
    uow = FakeUnitOfWork()
    service = orders(uow)
    placed = await service.place(asks(FulfilmentStyle.CHOREOGRAPHED))
    await service.cancel(placed.order.id, customer_id="acc_ann")
    assert uow.store.sagas == {}
    assert isinstance(uow.store.announced[-1], OrderCancelled)


def test_the_partners_events_move_a_choreographed_order_to_dispatched() -> None:
    order = choreographed(OrderStatus.PLACED)
    for event in (
        partners.StockReserved(order_id="ord-1"),
        partners.PaymentTaken(order_id="ord-1"),
        partners.OrderDispatched(order_id="ord-1"),  # before the points: events of two services race
        partners.PointsAwarded(order_id="ord-1", points=25),
    ):
        follow(order, event, at=AT)
    assert (order.status, order.points) == (OrderStatus.DISPATCHED, 25)
    assert [type(f) for f in order.facts] == [OrderDispatched]


def test_a_refused_reservation_or_a_declined_card_rejects_it() -> None:
    shortage = partners.Shortage(sku="ALB-00001", requested=2, available=0)
    order = choreographed(OrderStatus.PLACED)
    follow(order, partners.ReservationRefused(order_id="ord-1", shortages=(shortage,)), at=AT)
    assert order.status is OrderStatus.REJECTED
    order = choreographed(OrderStatus.STOCK_RESERVED)
    follow(order, partners.PaymentDeclined(order_id="ord-1", decline_code="card_declined"), at=AT)
    [fact] = order.facts
    assert isinstance(fact, OrderRejected) and fact.detail == "the card was declined (card_declined)"
    follow(order, partners.StockReleased(order_id="ord-1", reason="released"), at=AT)
    assert order.new_history[-1].event == "stock_released"


def test_a_hold_released_after_payment_asks_for_a_person() -> None:
    order = choreographed(OrderStatus.PAID)
    follow(order, partners.StockReleased(order_id="ord-1", reason="expired"), at=AT)
    assert order.status is OrderStatus.PAID
    assert order.new_history[-1].event == "needs_attention"


def test_events_seen_out_of_order_still_take_the_order_to_its_end() -> None:
    """Each partner's stream has its own consumer: the dispatch may be seen before the payment, and a
    declined card before the reservation; an event implies the steps before it."""
    order = choreographed(OrderStatus.PLACED)
    follow(order, partners.OrderDispatched(order_id="ord-1"), at=AT)
    follow(order, partners.PaymentTaken(order_id="ord-1"), at=AT)
    follow(order, partners.StockReserved(order_id="ord-1"), at=AT)
    assert order.status is OrderStatus.DISPATCHED
    assert [e.event for e in order.new_history] == ["stock_reserved", "payment_taken", "dispatched"]
    order = choreographed(OrderStatus.PLACED)
    follow(order, partners.PaymentDeclined(order_id="ord-1", decline_code="card_declined"), at=AT)
    follow(order, partners.StockReserved(order_id="ord-1"), at=AT)
    assert order.status is OrderStatus.REJECTED


async def test_the_handler_moves_a_choreographed_order_saves_it_and_announces_its_facts() -> None:
    """In the event's transaction: the order found, moved on, saved with its history, its facts announced."""
    uow = FakeUnitOfWork()
    order = choreographed(OrderStatus.PLACED)
    await uow.store.orders.add(order)
    choreography = Choreography(stores=uow, clock=Clock())
    shortage = partners.Shortage(sku="ALB-00001", requested=2, available=0)
    refused = partners.ReservationRefused(order_id=order.id, shortages=(shortage,))
    await choreography.followed(handling_of(refused, correlation_id=order.id), refused)
    assert (await uow.store.orders.get(order.id)).status is OrderStatus.REJECTED
    assert [e.event for e in await uow.store.orders.history(order.id)] == ["out_of_stock"]
    assert [type(f) for f in uow.store.announced] == [OrderRejected]


@pytest.mark.parametrize("known", [True, False])
async def test_the_handler_leaves_orchestrated_and_unknown_orders_alone(known: bool) -> None:
    """An orchestrated order's saga was told by the reply; an order order never placed is no business of it."""
    uow = FakeUnitOfWork()
    order = order_in(OrderStatus.PLACED)
    if known:
        await uow.store.orders.add(order)
    reserved = partners.StockReserved(order_id=order.id)
    await Choreography(stores=uow, clock=Clock()).followed(handling_of(reserved), reserved)
    assert uow.store.announced == []
    if known:
        assert (await uow.store.orders.get(order.id)).status is OrderStatus.PLACED
