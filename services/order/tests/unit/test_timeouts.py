from __future__ import annotations

import pytest

from order.domain import Send, Step
from order.facts import OrderRejected, RejectionReason
from order.lifecycle import OrderStatus

from .examples import AT, REFUND, RELEASE, order_in

MAX = 3


def test_a_warehouse_that_does_not_answer_a_reservation_gets_the_order_rejected_and_released() -> None:
    """No retry: the order is rejected, and whatever the warehouse reserves once it catches up is released."""
    order = order_in(OrderStatus.PLACED)
    assert order.timed_out(Step.RESERVE_STOCK, 1, max_attempts=MAX, at=AT) == [RELEASE]
    assert order.status is OrderStatus.REJECTED
    [fact] = order.facts
    assert isinstance(fact, OrderRejected) and fact.reason is RejectionReason.WAREHOUSE_UNAVAILABLE


def test_an_unanswered_reservation_of_a_cancelled_order_changes_nothing() -> None:
    """The cancellation already released the stock."""
    order = order_in(OrderStatus.CANCELLED)
    assert order.timed_out(Step.RESERVE_STOCK, 1, max_attempts=MAX, at=AT) == []


@pytest.mark.parametrize("attempt", [1, 2])
def test_an_unanswered_payment_is_asked_again_as_the_same_request(attempt: int) -> None:
    """Payment takes an order's money once however often it is asked, so asking again is safe."""
    order = order_in(OrderStatus.STOCK_RESERVED)
    assert order.timed_out(Step.TAKE_PAYMENT, attempt, max_attempts=MAX, at=AT) == [
        Send(Step.TAKE_PAYMENT, attempt + 1)
    ]
    assert order.status is OrderStatus.STOCK_RESERVED
    assert order.new_history[-1].event == "payment_retried"
    assert f"attempt {attempt} of 3" in (order.new_history[-1].reason or "")


def test_after_the_last_unanswered_payment_the_order_is_rejected_releasing_and_refunding() -> None:
    """The stock goes back, and a refund is asked in case payment charged the card without saying so."""
    order = order_in(OrderStatus.STOCK_RESERVED)
    assert order.timed_out(Step.TAKE_PAYMENT, MAX, max_attempts=MAX, at=AT) == [RELEASE, REFUND]
    assert order.status is OrderStatus.REJECTED
    [fact] = order.facts
    assert isinstance(fact, OrderRejected) and fact.reason is RejectionReason.PAYMENT_UNAVAILABLE


def test_an_unanswered_payment_of_a_cancelled_order_is_refunded_in_case_it_was_taken() -> None:
    """The customer cancelled while payment was asked; if it charged the card, the money goes back."""
    order = order_in(OrderStatus.CANCELLED)
    assert order.timed_out(Step.TAKE_PAYMENT, 1, max_attempts=MAX, at=AT) == [REFUND]


@pytest.mark.parametrize("step", [Step.DISPATCH_ORDER, Step.AWARD_POINTS])
def test_unanswered_steps_of_a_paid_order_are_asked_again_then_left_to_a_person(step: Step) -> None:
    """Dispatch and points are retried; after the last attempt the history says a person is needed."""
    order = order_in(OrderStatus.PAID)
    assert order.timed_out(step, 1, max_attempts=MAX, at=AT) == [Send(step, 2)]
    assert order.timed_out(step, MAX, max_attempts=MAX, at=AT) == []
    assert order.status is OrderStatus.PAID
    assert [e.event for e in order.new_history] == [f"{step}_retried", f"{step}_unconfirmed"]
    assert "needs a person" in (order.new_history[-1].reason or "")


@pytest.mark.parametrize("step", [Step.RELEASE_STOCK, Step.REFUND_PAYMENT, Step.REVOKE_POINTS])
def test_unanswered_compensations_are_asked_again_whatever_the_orders_status(step: Step) -> None:
    """Giving back is always worth asking again: releasing, refunding and revoking are idempotent."""
    order = order_in(OrderStatus.REJECTED)
    assert order.timed_out(step, 2, max_attempts=MAX, at=AT) == [Send(step, 3)]
    assert order.timed_out(step, 3, max_attempts=MAX, at=AT) == []
    assert order.new_history[-1].event == f"{step}_unconfirmed"


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (OrderStatus.DISPATCHED, Step.DISPATCH_ORDER),
        (OrderStatus.REJECTED, Step.DISPATCH_ORDER),
        (OrderStatus.REJECTED, Step.AWARD_POINTS),
        (OrderStatus.PAID, Step.TAKE_PAYMENT),
    ],
)
def test_a_step_whose_outcome_no_longer_matters_is_not_asked_again(status: OrderStatus, step: Step) -> None:
    """A dispatch already confirmed, or points and dispatch for a rejected order, are left alone."""
    order = order_in(status)
    assert order.timed_out(step, 1, max_attempts=MAX, at=AT) == []
    assert order.new_history == []
