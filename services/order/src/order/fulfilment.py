"""The fulfilment saga, orchestrated by order with paved's orchestrator (``paved.sagas``):

    reserve stock ─▶ take payment (the pivot) ─▶ award points ─▶ dispatch
      ↺ release        ↺ refund

paved runs it: each command with its deadline through the outbox, the saga's state in order's database
in the same transaction, replies and timeouts handled once by whichever instance gets them, the
compensations in reverse order, retries forward after the pivot, and a person asked when retrying does
not help (``paved sagas stuck``). This module says what the steps are and how each command is built from
the order, and tells the order what happened (``Progress``), so that its status, history and published
facts follow the saga in the saga's own transaction. docs/order.md tells the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from paved import Clock
from paved.messaging import Command
from paved.sagas import Action, ChangeKind, Outcome, Saga, SagaChange, SagaStep, StepContext
from sqlalchemy.ext.asyncio import AsyncSession

from order import partners
from order.domain import Step
from order.facts import RejectionReason
from order.lifecycle import Order
from order.ports import Store
from order.use_cases import announce

log = structlog.get_logger(logger_name="order.fulfilment")

SAGA = "fulfilment"


class CardMissingError(RuntimeError):
    """Payment is to be asked while the order's card is no longer kept: a broken invariant, not a refusal."""


@dataclass(frozen=True)
class Deadlines:
    """How long each partner has to answer."""

    command: timedelta
    payment: timedelta


def saga_data(order: Order) -> dict[str, Any]:
    """What the saga's commands are built from, kept with the saga: the order as it was placed."""
    total = order.total
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
        "total": {"amount_minor": total.amount_minor, "currency": total.currency},
    }


class OpensStores(Protocol):
    def store_in(self, session: AsyncSession) -> Store:
        """order's store in the transaction paved opened for the saga's change (or a partner's event)."""
        ...


def fulfilment_saga(*, stores: OpensStores, deadlines: Deadlines, max_attempts: int) -> Saga:
    """The steps, their compensations, and how often each may be asked before the saga gives up on it."""

    async def reserve(context: StepContext) -> Command:
        lines = tuple(partners.StockLine(**line) for line in context.data["lines"])
        return partners.ReserveStock(order_id=context.saga_id, lines=lines)

    async def release(context: StepContext) -> Command:
        return partners.ReleaseStock(order_id=context.saga_id)

    async def take_payment(context: StepContext) -> Command:
        # The card is read in the transaction that sends the command, and never kept in the saga's data.
        card = await stores.store_in(context.session).cards.card_of(context.saga_id)
        if card is None:
            raise CardMissingError(f"order {context.saga_id} is to be paid but its card is no longer kept")
        total = context.data["total"]
        return partners.TakePayment(
            order_id=context.saga_id,
            customer_id=context.data["customer_id"],
            amount_minor=total["amount_minor"],
            currency=total["currency"],
            card_number=card.digits,
        )

    async def refund(context: StepContext) -> Command:
        return partners.RefundPayment(order_id=context.saga_id)

    async def award(context: StepContext) -> Command:
        amount = partners.Money(**context.data["total"])
        return partners.AwardPoints(order_id=context.saga_id, customer_id=context.data["customer_id"], amount=amount)

    async def dispatch(context: StepContext) -> Command:
        return partners.DispatchOrder(order_id=context.saga_id)

    command, payment = deadlines.command, deadlines.payment
    return Saga(
        SAGA,
        SagaStep(
            Step.RESERVE_STOCK,
            Action(
                reserve,
                succeeded=(partners.StockReserved,),
                failed=(partners.OutOfStock,),
                deadline=command,
            ),
            compensation=Action(
                release,
                succeeded=(partners.StockReleased, partners.ReservationNotFound),
                deadline=command,
            ),
            # A warehouse that does not answer is unlikely to in time for the customer: give up at once.
            attempts=1,
        ),
        SagaStep(
            Step.TAKE_PAYMENT,
            Action(
                take_payment,
                succeeded=(partners.PaymentTaken,),
                failed=(partners.PaymentDeclined, partners.PaymentFailed),
                deadline=payment,
            ),
            compensation=Action(
                refund,
                succeeded=(partners.PaymentRefunded, partners.NothingToRefund),
                deadline=payment,
            ),
            pivot=True,
            # Payment charges an order once however often it is asked, so asking again is safe.
            attempts=max_attempts,
        ),
        SagaStep(
            Step.AWARD_POINTS,
            Action(award, succeeded=(partners.PointsAwarded,), deadline=command),
            attempts=max_attempts,
        ),
        SagaStep(
            Step.DISPATCH_ORDER,
            Action(
                dispatch,
                succeeded=(partners.OrderDispatched,),
                # The reservation lapsed before dispatch: retried forward, then a person decides.
                failed=(partners.StockReleased,),
                deadline=command,
            ),
            attempts=max_attempts,
        ),
    )


def describe_shortages(reply: partners.OutOfStock | partners.ReservationRefused) -> str:
    return ", ".join(f"{s.sku} (asked {s.requested}, {s.available} available)" for s in reply.shortages)


class Progress:
    """Tells each order what its saga did, in the saga's transaction: status, history, facts, and the card."""

    def __init__(self, *, stores: OpensStores, clock: Clock) -> None:
        self.stores = stores
        self.clock = clock

    async def __call__(self, session: AsyncSession, change: SagaChange) -> None:
        store = self.stores.store_in(session)
        order = await store.orders.get(change.saga_id, for_update=True)
        card_kept = order.payment_may_be_asked
        self.apply(order, change, at=self.clock())
        await store.orders.save(order)
        await announce(store, order)
        if card_kept and not order.payment_may_be_asked:
            # The card was kept only to be sent to payment; from here on it is only a liability.
            await store.cards.forget(order.id)

    @staticmethod
    def apply(order: Order, change: SagaChange, *, at: datetime) -> None:
        """What ``change`` means for ``order`` (pure: tested without I/O)."""
        step = Step(change.step)
        reply = change.reply
        match change.kind, change.outcome, reply:
            case ChangeKind.ACTION, Outcome.SUCCEEDED, partners.StockReserved():
                order.reserve(at=at)
            case ChangeKind.ACTION, Outcome.SUCCEEDED, partners.PaymentTaken():
                order.pay(at=at)
            case ChangeKind.ACTION, Outcome.SUCCEEDED, partners.PointsAwarded(points=points):
                order.award_points(points, at=at)
            case ChangeKind.ACTION, Outcome.SUCCEEDED, partners.OrderDispatched():
                order.dispatch(at=at)
            case ChangeKind.ACTION, Outcome.FAILED, partners.OutOfStock():
                order.reject_for_shortage(describe_shortages(reply), at=at)
            case ChangeKind.ACTION, Outcome.FAILED, partners.PaymentDeclined(decline_code=code):
                order.reject_for_payment(RejectionReason.PAYMENT_DECLINED, f"the card was declined ({code})", at=at)
            case ChangeKind.ACTION, Outcome.FAILED, partners.PaymentFailed(reason=reason):
                order.reject_for_payment(RejectionReason.PAYMENT_FAILED, f"the payment failed ({reason})", at=at)
            case ChangeKind.ACTION, Outcome.FAILED, partners.StockReleased(reason=reason):
                order.note_retry(step, f"the warehouse no longer holds the stock ({reason})", at=at)
            case ChangeKind.ACTION, Outcome.TIMED_OUT, _:
                order.reject_for_silence(step, change.detail or "no answer", at=at)
            case ChangeKind.COMPENSATION, Outcome.SUCCEEDED, partners.NothingToRefund(reason=reason):
                order.note_undone(step, f"nothing to refund ({reason})", at=at)
            case ChangeKind.COMPENSATION, Outcome.SUCCEEDED, _:
                order.note_undone(step, None, at=at)
            case ChangeKind.COMPENSATION, Outcome.FAILED, _:
                order.note_retry(step, f"undoing it was refused ({change.detail})", at=at)
            case ChangeKind.SAGA, Outcome.NEEDS_ATTENTION, _:
                order.ask_for_attention(change.detail, at=at)
            case _:
                log.debug("saga change with nothing to tell the order", order_id=order.id, change=change.outcome)
