"""The payment service layer: the cashier (asking for a payment or a refund, and each step the worker takes
with the processor) and the card keeper (payment's side of a choreographed fulfilment).

Asking (``take``, ``refund``) happens in the transaction of the command being handled and only records:
no call to the processor is made while a transaction is open. The worker then ``claim``s due steps in one
short transaction, makes each call with no transaction open, and records its answer in another. If the
process dies in between, the claim lapses after its lease and the step is taken again: the charge goes
out under the same idempotency key (the order id), so the processor answers with the charge it made
the first time instead of making a second.

The card keeper's use cases run in the transaction of the message being handled, and record what was heard
of the order (``choreography/domain.py``). When the card and the stock are both there, the payment is asked
of the cashier exactly as a TakePayment asks it (same worker, processor, leases and idempotency key), and
when a choreographed order ends after that, its refund is asked as a RefundPayment asks it. The events those
publish are the cashier's, caused by the message that made them due.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

import structlog
from paved import Asker, Clock

from payment.cards import CardNumber, CardUnreadableError
from payment.choreography.domain import CardTerms, Choreography
from payment.domain import HistoryEntry, Payment, PaymentNotFoundError, Step
from payment.facts import NothingToRefund, PaymentRefunded
from payment.money import Money
from payment.ports import CardVault, PaymentProvider, Question, Store, UnitOfWork
from payment.results import ChargeResult, Refused
from payment.retries import RetryPolicy

log = structlog.get_logger(logger_name="payment.use_cases")

NOTHING_ASKED = "no payment was asked for the order: it will not be taken"


@dataclass(frozen=True)
class TakeRequest:
    """What a TakePayment asks: this amount, from this customer's card, for this order."""

    order_id: str
    customer_id: str
    amount: Money
    card: CardNumber


@dataclass(frozen=True)
class Claim:
    """A step a worker took on: the payment as it was claimed, and what to ask the processor."""

    payment: Payment
    step: Step


def refund_key(order_id: str) -> str:
    """The idempotency key of an order's refund (its charge's key is the order id itself)."""
    return f"{order_id}:refund"


class Cashier:
    """Takes and refunds the payments of orders through the card processor."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        provider: PaymentProvider,
        vault: CardVault,
        policy: RetryPolicy,
        lease: timedelta,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.provider = provider
        self.vault = vault
        self.policy = policy
        # Longer than a call to the processor can take: a claim lapses only if its worker is gone.
        self.lease = lease
        self.clock = clock

    async def take(self, store: Store, request: TakeRequest, asker: Asker) -> None:
        """Ask for the order's payment, or, if it was asked before, answer with where it stands."""
        payment = await store.payments.find(request.order_id)
        new = payment is None
        if payment is None:
            payment = Payment.ask(
                order_id=request.order_id,
                customer_id=request.customer_id,
                amount=request.amount,
                card=request.card,
                sealed_card=self.vault.seal(request.card, order_id=request.order_id),
                cancelled=await store.cancellations.contains(request.order_id),
                at=self.clock(),
            )
        elif not payment.has_terms(customer_id=request.customer_id, amount=request.amount):
            # One payment per order: the asker learns what it is and can compare it with what it asked.
            log.warning("payment asked again with other terms; answered as it stands", order_id=request.order_id)
        await store.askers.add(request.order_id, Question.TAKE, asker)
        await self._settle(store, payment, new=new)

    async def refund(self, store: Store, order_id: str, asker: Asker) -> None:
        """Give the order's money back; a refund before the payment cancels the payment instead."""
        await store.askers.add(order_id, Question.REFUND, asker)
        payment = await store.payments.find(order_id)
        if payment is not None:
            payment.ask_refund(self.clock())
            await self._settle(store, payment)
            return
        # The commands crossed (a retried TakePayment overtaken by its compensation): the payment is
        # never to be taken, so the compensation is done already.
        now = self.clock()
        await store.cancellations.add(order_id, at=now)
        await store.answer(asker, NothingToRefund(order_id, NOTHING_ASKED, now))
        await store.askers.mark_answered(order_id, Question.REFUND, at=now)

    async def payment(self, order_id: str) -> tuple[Payment, list[HistoryEntry]]:
        """The order's payment and every change it went through; ``PaymentNotFoundError`` if none was asked."""
        async with self.uow.read() as store:
            found = await store.payments.read(order_id)
        if found is None:
            raise PaymentNotFoundError(order_id)
        return found

    async def claim(self, *, limit: int) -> list[Claim]:
        """Take on up to ``limit`` due steps, in one short transaction."""
        now = self.clock()
        claims = []
        async with self.uow.write() as store:
            for payment in await store.payments.due(at=now, limit=limit):
                step = payment.claim(at=now, lease=self.lease)
                await store.payments.save(payment)
                if step is not None:
                    claims.append(Claim(payment, step))
        return claims

    async def advance(self, claim: Claim) -> None:
        """Ask the processor for the claimed step with no transaction open, then record its answer."""
        record = await self._ask_provider(claim)
        async with self.uow.write() as store:
            current = await store.payments.find(claim.payment.order_id)
            assert current is not None, "payments are never deleted"
            record(current, self.clock())
            await self._settle(store, current)

    async def next_due(self) -> float | None:
        """Seconds until the next step is due (zero or less: due now); None when nothing is waiting."""
        async with self.uow.read() as store:
            due = await store.payments.next_due()
        return None if due is None else (due - self.clock()).total_seconds()

    async def _ask_provider(self, claim: Claim) -> Callable[[Payment, datetime], None]:
        """Make the step's call; returns how to record its answer on the payment as it is by then."""
        payment, policy = claim.payment, self.policy
        match claim.step:
            case Step.CHARGE:
                charged = await self._charge(payment)
                return lambda current, at: current.record_charge(charged, at=at, policy=policy)
            case Step.REFUND:
                assert payment.charge_id is not None, "only a charge that was made is refunded"
                refunded = await self.provider.refund(
                    charge_id=payment.charge_id, idempotency_key=refund_key(payment.order_id), amount=payment.amount
                )
                return lambda current, at: current.record_refund(refunded, at=at, policy=policy)
            case Step.LOOK_UP:
                found = await self.provider.charges_for(payment.order_id)
                return lambda current, at: current.record_look_up(found, at=at, policy=policy)
            case _:
                assert_never(claim.step)

    async def _charge(self, payment: Payment) -> ChargeResult:
        if payment.sealed_card is None:
            return Refused("the card number of this payment is no longer held")
        try:
            card = self.vault.open(payment.sealed_card, order_id=payment.order_id)
        except CardUnreadableError as exc:
            # Retrying cannot help until someone fixes the key; the order hears at once instead of waiting.
            log.error("card number cannot be opened", order_id=payment.order_id, error=str(exc))
            return Refused("the card number cannot be read (the card key changed?)")
        # The order id is the idempotency key: however often this is sent, one charge at most is made.
        return await self.provider.charge(
            idempotency_key=payment.order_id, amount=payment.amount, card=card, reference=payment.order_id
        )

    async def _settle(self, store: Store, payment: Payment, *, new: bool = False) -> None:
        """Save the payment, publish what happened to it, and answer whoever waits for an answer it now has."""
        await (store.payments.add if new else store.payments.save)(payment)
        for fact in payment.facts:
            question = Question.REFUND if isinstance(fact, PaymentRefunded) else Question.TAKE
            # A refund made to undo a failed payment was asked by no one: it belongs to the take.
            cause = await store.askers.first(payment.order_id, question) or await store.askers.first(
                payment.order_id, Question.TAKE
            )
            await store.announce(caused_by=cause)(fact)
        payment.facts.clear()
        now = self.clock()
        for question, outcome in ((Question.TAKE, payment.take_outcome()), (Question.REFUND, payment.refund_outcome())):
            if outcome is None:
                continue
            waiting = await store.askers.waiting(payment.order_id, question)
            for asker in waiting:
                await store.answer(asker, outcome)
            if waiting:
                await store.askers.mark_answered(payment.order_id, question, at=now)


class CardKeeper:
    """Keeps the cards of choreographed orders until their stock is reserved, then has the cashier take them."""

    def __init__(self, *, cashier: Cashier, vault: CardVault, clock: Clock) -> None:
        self.cashier = cashier
        self.vault = vault
        self.clock = clock

    async def keep_card(self, store: Store, request: TakeRequest, asker: Asker) -> None:
        """KeepCard: keep the card, sealed; take the payment at once if the stock was reserved first."""
        terms = CardTerms(request.customer_id, request.amount)
        sealed = self.vault.seal(request.card, order_id=request.order_id)
        async with self._heard_of(store, request.order_id) as choreography:
            if choreography.terms not in (None, terms):
                # One card per order, as one payment per order: the first terms stand.
                log.warning("card sent again with other terms; the first stand", order_id=request.order_id)
            elif choreography.ended_at is not None and not choreography.choreographed:
                log.info("card not kept: the order ended before it came", order_id=request.order_id)
            due = choreography.keep_card(terms, sealed, at=self.clock())
            take = self._hand_over(choreography) if due else None
        if take is not None:
            await self.cashier.take(store, take, asker)

    async def stock_reserved(self, store: Store, order_id: str, asker: Asker) -> None:
        """warehouse.StockReserved: take the payment if the order's card is kept; otherwise only note it."""
        async with self._heard_of(store, order_id) as choreography:
            take = self._hand_over(choreography) if choreography.reserve_stock(at=self.clock()) else None
        if take is not None:
            await self.cashier.take(store, take, asker)

    async def order_ended(self, store: Store, order_id: str, asker: Asker) -> None:
        """order.OrderCancelled or OrderRejected: forget a card not used yet; refund a payment asked."""
        async with self._heard_of(store, order_id) as choreography:
            refund = choreography.end(at=self.clock())
        if refund:
            await self.cashier.refund(store, order_id, asker)

    def _hand_over(self, choreography: Choreography) -> TakeRequest:
        """What the payment is to be taken with: the kept card, opened for the cashier (who seals it again)."""
        terms, sealed = choreography.hand_over_card(at=self.clock())
        card = self.vault.open(sealed, order_id=choreography.order_id)
        return TakeRequest(
            order_id=choreography.order_id, customer_id=terms.customer_id, amount=terms.amount, card=card
        )

    @asynccontextmanager
    async def _heard_of(self, store: Store, order_id: str) -> AsyncIterator[Choreography]:
        """The order's choreography, held for the transaction (new if nothing was heard of it yet), saved after."""
        found = await store.choreographies.find(order_id)
        choreography = found or Choreography(order_id=order_id, heard_at=self.clock())
        yield choreography
        await (store.choreographies.save if found else store.choreographies.add)(choreography)
