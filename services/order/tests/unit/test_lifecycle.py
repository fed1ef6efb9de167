from __future__ import annotations

from collections.abc import Callable

import pytest

from order.domain import CatalogItem, MixedCurrenciesError, Money, OrderTooLargeError, Step, UnknownSkuError
from order.facts import OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected, RejectionReason
from order.lifecycle import Order, OrderNotCancellableError, OrderStatus

from .examples import AT, ann_orders, order_in
from .fakes import CATALOG


def test_an_order_is_placed_at_the_catalogs_prices() -> None:
    """A new order copies each album's title and price, totals them, and is announced."""
    order = ann_orders(("ALB-00001", 2), ("ALB-00002", 1))
    assert order.status is OrderStatus.PLACED
    assert [(line.title, line.unit_price) for line in order.lines] == [
        ("Blue Train", Money(1299, "GBP")),
        ("Kind of Blue", Money(999, "GBP")),
    ]
    assert order.total == Money(3597, "GBP")
    assert order.card_last4 == "4242"
    assert order.facts == [OrderPlaced("ord-1", "acc_ann", order.lines, Money(3597, "GBP"), AT)]
    assert [(e.status, e.event) for e in order.new_history] == [(OrderStatus.PLACED, "placed")]


def test_an_order_of_an_album_the_catalog_does_not_sell_is_refused_naming_it() -> None:
    """Every SKU the catalog lacks is named."""
    with pytest.raises(UnknownSkuError) as refused:
        ann_orders(("ALB-00001", 1), ("NOPE-1", 1), ("NOPE-2", 1))
    assert refused.value.skus == ["NOPE-1", "NOPE-2"]


def test_an_order_is_in_one_currency() -> None:
    """Albums priced in different currencies cannot make one total."""
    catalog = {**CATALOG, "ALB-00003": CatalogItem("ALB-00003", "Giant Steps", "John Coltrane", Money(1100, "EUR"))}
    with pytest.raises(MixedCurrenciesError):
        ann_orders(("ALB-00001", 1), ("ALB-00003", 1), catalog=catalog)


def test_an_order_payment_could_never_take_is_refused() -> None:
    """Above payment's limit per order the order is refused up front, not after reserving stock."""
    catalog = {**CATALOG, "BOX-00001": CatalogItem("BOX-00001", "Complete Works", "Various", Money(2_000_000, "GBP"))}
    assert ann_orders(("BOX-00001", 50), catalog=catalog).total == Money(100_000_000, "GBP")
    with pytest.raises(OrderTooLargeError):
        ann_orders(("BOX-00001", 51), catalog=catalog)


def test_the_happy_path_reserves_then_charges_then_rewards_and_dispatches() -> None:
    """Each step moves the order on one status; dispatch is announced."""
    order = ann_orders(("ALB-00001", 2))
    order.reserve(at=AT)
    order.pay(at=AT)
    order.award_points(25, at=AT)
    order.dispatch(at=AT)
    assert order.status is OrderStatus.DISPATCHED
    assert order.points == 25
    assert [(e.status, e.event) for e in order.new_history] == [
        (OrderStatus.PLACED, "placed"),
        (OrderStatus.STOCK_RESERVED, "stock_reserved"),
        (OrderStatus.PAID, "payment_taken"),
        (OrderStatus.PAID, "points_awarded"),
        (OrderStatus.DISPATCHED, "dispatched"),
    ]
    assert order.facts[-1] == OrderDispatched("ord-1", "acc_ann", Money(2598, "GBP"), AT)


def test_out_of_stock_rejects_the_order_with_nothing_to_give_back() -> None:
    """Nothing was reserved, so nothing is released; the shortage is the reason."""
    order = order_in(OrderStatus.PLACED)
    order.reject_for_shortage("ALB-00001 (asked 2, 1 available)", at=AT)
    assert order.status is OrderStatus.REJECTED
    [fact] = order.facts
    assert isinstance(fact, OrderRejected)
    assert (fact.reason, fact.detail) == (
        RejectionReason.OUT_OF_STOCK,
        "not enough stock: ALB-00001 (asked 2, 1 available)",
    )
    assert order.new_history[-1].event == "out_of_stock"


@pytest.mark.parametrize("reason", [RejectionReason.PAYMENT_DECLINED, RejectionReason.PAYMENT_FAILED])
def test_a_refused_payment_rejects_the_order_and_releases_its_stock(reason: RejectionReason) -> None:
    """A declined card or a failed payment rejects the order (its saga gives the stock back)."""
    order = order_in(OrderStatus.STOCK_RESERVED)
    order.reject_for_payment(reason, "the card was declined", at=AT)
    assert order.status is OrderStatus.REJECTED
    assert [type(f) for f in order.facts] == [OrderRejected]


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.STOCK_RESERVED])
def test_an_order_is_cancelled_until_payment_is_taken_and_its_stock_goes_back(status: OrderStatus) -> None:
    """Before payment, cancelling releases the stock (reserved or being reserved) and is announced."""
    order = order_in(status)
    order.cancel(at=AT)
    assert order.status is OrderStatus.CANCELLED
    assert order.facts == [OrderCancelled("ord-1", "acc_ann", Money(2598, "GBP"), "cancelled by the customer", AT)]


@pytest.mark.parametrize(
    "status", [OrderStatus.PAID, OrderStatus.DISPATCHED, OrderStatus.REJECTED, OrderStatus.CANCELLED]
)
def test_once_paid_or_ended_an_order_cannot_be_cancelled_and_the_refusal_names_its_state(status: OrderStatus) -> None:
    """Cancelling a paid, dispatched, rejected or cancelled order changes nothing."""
    order = order_in(status)
    with pytest.raises(OrderNotCancellableError, match=f"is {status.value}"):
        order.cancel(at=AT)
    assert order.status is status and order.new_history == [] and order.facts == []


@pytest.mark.parametrize(
    ("status", "answer", "event"),
    [
        (OrderStatus.CANCELLED, lambda o: o.reserve(at=AT), "stock_reserved_after_end"),
        (OrderStatus.CANCELLED, lambda o: o.pay(at=AT), "payment_taken_after_end"),
        (OrderStatus.REJECTED, lambda o: o.reserve(at=AT), "stock_reserved_after_end"),
    ],
)
def test_what_is_confirmed_for_an_order_that_was_let_go_is_noted_and_changes_nothing(
    status: OrderStatus, answer: Callable[[Order], None], event: str
) -> None:
    """A hold or a charge confirmed after the order ended is noted (its saga undoes it); the order stays."""
    order = order_in(status)
    answer(order)
    assert order.status is status and order.facts == []
    assert order.new_history[-1].event == event


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (OrderStatus.STOCK_RESERVED, lambda o: o.reserve(at=AT)),
        (OrderStatus.PAID, lambda o: o.pay(at=AT)),
        (OrderStatus.CANCELLED, lambda o: o.reject_for_payment(RejectionReason.PAYMENT_DECLINED, "no", at=AT)),
        (OrderStatus.CANCELLED, lambda o: o.reject_for_shortage("ALB-00001", at=AT)),
        (OrderStatus.DISPATCHED, lambda o: o.dispatch(at=AT)),
        (OrderStatus.PAID, lambda o: o.reject_for_silence(Step.TAKE_PAYMENT, "silence", at=AT)),
    ],
)
def test_an_answer_that_comes_again_or_too_late_changes_nothing(
    status: OrderStatus, answer: Callable[[Order], None]
) -> None:
    """A repeated or overtaken answer does not move the order or announce anything."""
    order = order_in(status)
    answer(order)
    assert order.status is status and order.facts == []


@pytest.mark.parametrize(
    ("status", "step", "reason"),
    [
        (OrderStatus.PLACED, Step.RESERVE_STOCK, RejectionReason.WAREHOUSE_UNAVAILABLE),
        (OrderStatus.STOCK_RESERVED, Step.TAKE_PAYMENT, RejectionReason.PAYMENT_UNAVAILABLE),
    ],
)
def test_a_partner_silent_before_payment_rejects_the_order(
    status: OrderStatus, step: Step, reason: RejectionReason
) -> None:
    """The saga gave up asking: the order is rejected, naming who did not answer."""
    order = order_in(status)
    order.reject_for_silence(step, "no answer by the deadline", at=AT)
    [fact] = order.facts
    assert order.status is OrderStatus.REJECTED and isinstance(fact, OrderRejected) and fact.reason is reason


def test_payment_may_be_asked_only_until_it_has_answered() -> None:
    """The card is needed while the order is placed or reserved, and not after."""
    assert [s for s in OrderStatus if order_in(s).payment_may_be_asked] == [
        OrderStatus.PLACED,
        OrderStatus.STOCK_RESERVED,
    ]
