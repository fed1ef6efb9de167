from __future__ import annotations

import pytest

from order.domain import Send, Step
from order.facts import OrderRejected, RejectionReason
from order.lifecycle import OrderStatus
from order.ports import SentCommand
from order.saga import Fulfilment

from .examples import order_in
from .fakes import VISA, Clock, FakeStore


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fulfilment(clock: Clock) -> Fulfilment:
    return Fulfilment(clock=clock, max_attempts=2)


async def store_with(status: OrderStatus) -> FakeStore:
    """A store holding Ann's order ``ord-1`` in ``status``, with her card kept while payment may be asked."""
    store = FakeStore()
    order = order_in(status)
    store.orders.rows[order.id] = order
    if order.payment_may_be_asked:
        await store.cards.keep(order.id, VISA)
    return store


def sent(step: Step, attempt: int = 1) -> SentCommand:
    return SentCommand("ord-1", step, attempt)


async def test_a_reservation_moves_the_order_on_and_asks_for_payment(fulfilment: Fulfilment, clock: Clock) -> None:
    """The answer is saved with the time it was handled, and the next command is sent."""
    store = await store_with(OrderStatus.PLACED)
    clock.advance(5)
    await fulfilment.stock_reserved(store, sent(Step.RESERVE_STOCK))
    order = await store.orders.get("ord-1")
    assert (order.status, order.updated_at) == (OrderStatus.STOCK_RESERVED, clock.now)
    assert store.sent == [("ord-1", Send(Step.TAKE_PAYMENT))]
    assert store.orders.entries["ord-1"][-1].event == "stock_reserved"


async def test_the_card_is_forgotten_once_payment_has_answered(fulfilment: Fulfilment) -> None:
    """Payment taken: the card is no longer kept, and points and dispatch are asked for."""
    store = await store_with(OrderStatus.STOCK_RESERVED)
    await fulfilment.payment_taken(store, sent(Step.TAKE_PAYMENT))
    assert store.cards.kept == {}
    assert [command for _, command in store.sent] == [Send(Step.AWARD_POINTS), Send(Step.DISPATCH_ORDER)]


async def test_a_declined_card_rejects_the_order_releases_its_stock_and_announces_it(fulfilment: Fulfilment) -> None:
    """The rejection is published with its reason; the card is forgotten."""
    store = await store_with(OrderStatus.STOCK_RESERVED)
    await fulfilment.payment_refused(
        store, sent(Step.TAKE_PAYMENT), reason=RejectionReason.PAYMENT_DECLINED, detail="declined"
    )
    assert (await store.orders.get("ord-1")).status is OrderStatus.REJECTED
    assert store.sent == [("ord-1", Send(Step.RELEASE_STOCK))]
    [fact] = store.announced
    assert isinstance(fact, OrderRejected) and fact.reason is RejectionReason.PAYMENT_DECLINED
    assert store.cards.kept == {}


async def test_stock_released_in_answer_to_a_dispatch_means_it_lapsed(fulfilment: Fulfilment) -> None:
    """Asked to dispatch, the warehouse held nothing: the paid order is rejected, refunded and its points revoked."""
    store = await store_with(OrderStatus.PAID)
    await fulfilment.stock_released(store, sent(Step.DISPATCH_ORDER), detail="expired")
    assert (await store.orders.get("ord-1")).status is OrderStatus.REJECTED
    assert [command for _, command in store.sent] == [Send(Step.REFUND_PAYMENT), Send(Step.REVOKE_POINTS)]


async def test_stock_released_in_answer_to_a_release_is_only_noted(fulfilment: Fulfilment) -> None:
    """The compensation was confirmed: the history says so, and nothing else happens."""
    store = await store_with(OrderStatus.CANCELLED)
    await fulfilment.stock_released(store, sent(Step.RELEASE_STOCK), detail="released")
    assert store.sent == [] and store.announced == []
    assert store.orders.entries["ord-1"][-1].event == "stock_released"


async def test_a_reservation_answering_another_step_changes_nothing(fulfilment: Fulfilment) -> None:
    """Only the answer to a reservation reserves."""
    store = await store_with(OrderStatus.PLACED)
    await fulfilment.stock_reserved(store, sent(Step.DISPATCH_ORDER))
    assert (await store.orders.get("ord-1")).status is OrderStatus.PLACED and store.sent == []


async def test_timeouts_retry_up_to_the_configured_attempts(fulfilment: Fulfilment) -> None:
    """With two attempts allowed, the first unanswered payment is asked again and the second rejects the order."""
    store = await store_with(OrderStatus.STOCK_RESERVED)
    await fulfilment.timed_out(store, sent(Step.TAKE_PAYMENT, 1))
    assert store.sent == [("ord-1", Send(Step.TAKE_PAYMENT, 2))]
    await fulfilment.timed_out(store, sent(Step.TAKE_PAYMENT, 2))
    assert (await store.orders.get("ord-1")).status is OrderStatus.REJECTED
    assert store.sent[1:] == [("ord-1", Send(Step.RELEASE_STOCK)), ("ord-1", Send(Step.REFUND_PAYMENT))]


async def test_points_are_recorded_on_the_order(fulfilment: Fulfilment) -> None:
    """What loyalty awarded is shown with the order."""
    store = await store_with(OrderStatus.PAID)
    await fulfilment.points_awarded(store, sent(Step.AWARD_POINTS), points=25)
    assert (await store.orders.get("ord-1")).points == 25
