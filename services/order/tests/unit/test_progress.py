"""What the fulfilment saga's changes mean for an order (``order.fulfilment.Progress``), without I/O."""

from __future__ import annotations

from paved.messaging import Reply
from paved.sagas import ChangeKind, Outcome, SagaChange, SagaState

from order import partners
from order.domain import Step
from order.facts import OrderDispatched, OrderRejected, RejectionReason
from order.fulfilment import Progress
from order.lifecycle import Order, OrderStatus

from .examples import AT, order_in
from .fakes import NO_SESSION, VISA, Clock, FakeUnitOfWork


def change(
    step: Step, kind: ChangeKind, outcome: Outcome, reply: Reply | None = None, detail: str | None = None
) -> SagaChange:
    return SagaChange("ord-1", {}, step, kind, outcome, SagaState.RUNNING, reply, detail)


def told(order: Order, *changes: SagaChange) -> Order:
    for c in changes:
        Progress.apply(order, c, at=AT)
    return order


def test_the_steps_replies_move_the_order_to_dispatched() -> None:
    """Each step's success moves the order on; dispatch is announced."""
    order = told(
        order_in(OrderStatus.PLACED),
        change(Step.RESERVE_STOCK, ChangeKind.ACTION, Outcome.SUCCEEDED, partners.StockReserved(order_id="ord-1")),
        change(Step.TAKE_PAYMENT, ChangeKind.ACTION, Outcome.SUCCEEDED, partners.PaymentTaken(order_id="ord-1")),
        change(
            Step.AWARD_POINTS, ChangeKind.ACTION, Outcome.SUCCEEDED, partners.PointsAwarded(order_id="ord-1", points=25)
        ),
        change(Step.DISPATCH_ORDER, ChangeKind.ACTION, Outcome.SUCCEEDED, partners.OrderDispatched(order_id="ord-1")),
    )
    assert (order.status, order.points) == (OrderStatus.DISPATCHED, 25)
    assert [type(f) for f in order.facts] == [OrderDispatched]


def test_refusals_before_the_pivot_reject_the_order_saying_why() -> None:
    """A shortage or a declined card rejects the order, with the partner's reason in the detail."""
    shortage = partners.Shortage(sku="ALB-00001", requested=2, available=1)
    out_of_stock = partners.OutOfStock(order_id="ord-1", shortages=(shortage,))
    order = told(
        order_in(OrderStatus.PLACED), change(Step.RESERVE_STOCK, ChangeKind.ACTION, Outcome.FAILED, out_of_stock)
    )
    [fact] = order.facts
    assert isinstance(fact, OrderRejected) and fact.detail == "not enough stock: ALB-00001 (asked 2, 1 available)"
    declined = partners.PaymentDeclined(order_id="ord-1", decline_code="card_declined")
    order = told(
        order_in(OrderStatus.STOCK_RESERVED), change(Step.TAKE_PAYMENT, ChangeKind.ACTION, Outcome.FAILED, declined)
    )
    [fact] = order.facts
    assert isinstance(fact, OrderRejected) and fact.reason is RejectionReason.PAYMENT_DECLINED
    assert fact.detail == "the card was declined (card_declined)"


def test_a_lapsed_reservation_after_payment_is_noted_while_the_saga_retries_forward() -> None:
    """Past the pivot a refusal does not reject the order: it is noted, and the saga asks again."""
    lapsed = partners.StockReleased(order_id="ord-1", reason="expired")
    order = told(order_in(OrderStatus.PAID), change(Step.DISPATCH_ORDER, ChangeKind.ACTION, Outcome.FAILED, lapsed))
    assert order.status is OrderStatus.PAID
    assert order.new_history[-1].event == "dispatch_order_retried"


def test_compensations_and_a_call_for_a_person_are_written_in_the_history() -> None:
    """What is undone, and a saga that needs a person, go into the order's history."""
    order = told(
        order_in(OrderStatus.REJECTED),
        change(
            Step.TAKE_PAYMENT,
            ChangeKind.COMPENSATION,
            Outcome.SUCCEEDED,
            partners.NothingToRefund(order_id="ord-1", reason="declined"),
        ),
        change(
            Step.RESERVE_STOCK,
            ChangeKind.COMPENSATION,
            Outcome.SUCCEEDED,
            partners.StockReleased(order_id="ord-1", reason="released"),
        ),
        change(Step.RESERVE_STOCK, ChangeKind.SAGA, Outcome.NEEDS_ATTENTION, detail="it kept failing"),
    )
    assert [(e.event, e.reason) for e in order.new_history] == [
        ("payment_refunded", "nothing to refund (declined)"),
        ("stock_released", None),
        ("needs_attention", "it kept failing"),
    ]


async def test_progress_saves_the_order_publishes_its_facts_and_forgets_the_card_once_payment_answered() -> None:
    """In the saga's transaction: the order saved, its facts announced, its card kept only while payment may be asked."""
    uow = FakeUnitOfWork()
    store = uow.store
    order = order_in(OrderStatus.STOCK_RESERVED)
    await store.orders.add(order)
    await store.cards.keep(order.id, VISA)
    progress = Progress(stores=uow, clock=Clock())
    await progress(
        NO_SESSION,
        change(Step.RESERVE_STOCK, ChangeKind.ACTION, Outcome.SUCCEEDED, partners.StockReserved(order_id="ord-1")),
    )
    assert store.cards.kept == {order.id: VISA}  # payment is still to be asked
    declined = partners.PaymentDeclined(order_id="ord-1", decline_code="card_declined")
    await progress(NO_SESSION, change(Step.TAKE_PAYMENT, ChangeKind.ACTION, Outcome.FAILED, declined))
    assert (await store.orders.get(order.id)).status is OrderStatus.REJECTED
    assert [type(f) for f in store.announced] == [OrderRejected]
    assert store.cards.kept == {}
