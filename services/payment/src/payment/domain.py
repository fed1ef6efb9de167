"""Payments for orders: taking and refunding them, and what each answer of the card processor means.

Pure Python: no I/O, framework, ORM or broker. A payment is asked for once per order and moves through
``charging`` to ``taken``, ``declined`` or ``failed``, and from ``taken`` through ``refunding`` to
``refunded``. The processor is asked outside any transaction by a worker, which claims a step, calls, and
hands the answer back here; an answer that no longer fits (another instance's came first) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from payment.cards import CardNumber
from payment.facts import (
    Fact,
    NothingToRefund,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentTaken,
    RefundOutcome,
    TakeOutcome,
)
from payment.money import Money
from payment.results import (
    Charged,
    ChargeResult,
    ChargesFound,
    Declined,
    LookUpResult,
    NoAnswer,
    RefundMade,
    RefundResult,
    Refused,
)
from payment.retries import RetryPolicy

PROVIDER_UNAVAILABLE = "provider unavailable"
CANCELLED_FIRST = "cancelled: a refund was asked for the order before its payment"
INVALID_NUMBER = "invalid_number"  # the decline code card processors give a number that fails the Luhn check


class PaymentNotFoundError(Exception):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no payment was asked for the order {order_id!r}")


class PaymentStatus(StrEnum):
    """Where a payment stands."""

    CHARGING = "charging"  # the processor is being asked to charge the card
    TAKEN = "taken"
    DECLINED = "declined"
    FAILED = "failed"  # no charge could be made, or confirmed, within the attempts allowed
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"  # a refund was asked before the payment: it is never taken


class Step(StrEnum):
    """What the worker asks of the processor next."""

    CHARGE = "charge"
    REFUND = "refund"
    LOOK_UP = "look up"  # after giving up on an unknown outcome: did a charge go through after all?


@dataclass(frozen=True)
class HistoryEntry:
    """One change a payment went through: when, to which status, and why."""

    at: datetime
    status: PaymentStatus
    note: str


@dataclass
class Payment:
    """The payment of one order: its state, and the changes and facts recorded since it was loaded."""

    order_id: str
    customer_id: str
    amount: Money
    card_last4: str
    status: PaymentStatus
    requested_at: datetime
    updated_at: datetime
    # The card number, sealed by the card vault; kept only while a charge may still have to be sent.
    sealed_card: bytes | None = field(default=None, repr=False)
    charge_id: str | None = None
    decline_code: str | None = None
    failure_reason: str | None = None
    refund_id: str | None = None
    decided_at: datetime | None = None  # when the outcome of taking it became known
    refunded_at: datetime | None = None
    refund_requested: bool = False
    # A charge may have reached the processor without its answer reaching us (a timeout).
    unresolved: bool = False
    attempts: int = 0  # calls made for the current step
    next_attempt_at: datetime | None = None
    changes: list[HistoryEntry] = field(default_factory=list, compare=False, repr=False)
    facts: list[Fact] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def ask(
        cls,
        *,
        order_id: str,
        customer_id: str,
        amount: Money,
        card: CardNumber,
        sealed_card: bytes,
        cancelled: bool,
        at: datetime,
    ) -> Payment:
        """The payment of an order, due to be charged now; or settled at once if it cannot be."""
        payment = cls(
            order_id=order_id,
            customer_id=customer_id,
            amount=amount,
            card_last4=card.last4,
            status=PaymentStatus.CHARGING,
            requested_at=at,
            updated_at=at,
            sealed_card=sealed_card,
            next_attempt_at=at,
        )
        if cancelled:
            payment._fail(CANCELLED_FIRST, at, status=PaymentStatus.CANCELLED)
        elif not card.passes_luhn:
            payment.decline_code = INVALID_NUMBER
            payment._settle(PaymentStatus.DECLINED, at, "the card number fails the Luhn check")
            payment.facts.append(payment._declined(at))
        else:
            payment._note(at, f"asked for {amount.amount_minor} {amount.currency} (minor units)")
        return payment

    def has_terms(self, *, customer_id: str, amount: Money) -> bool:
        """Whether a request to take ``amount`` from ``customer_id`` is the one this payment was asked with."""
        return (self.customer_id, self.amount) == (customer_id, amount)

    def ask_refund(self, at: datetime) -> None:
        """Give the money back: at once if it was taken, once it is if it is being taken, never twice."""
        if self.refund_requested:
            return
        self.refund_requested = True
        self._note(at, "refund asked")
        if self.status is PaymentStatus.TAKEN:
            self._start_refund(at)

    def claim(self, *, at: datetime, lease: timedelta) -> Step | None:
        """The step due now, if any; another worker may take it over only after ``lease``."""
        if self.next_attempt_at is None or self.next_attempt_at > at:
            return None
        if self.status is PaymentStatus.CHARGING:
            step = Step.CHARGE
        elif self.status is PaymentStatus.REFUNDING:
            step = Step.REFUND
        elif self.status is PaymentStatus.FAILED and self.unresolved:
            step = Step.LOOK_UP
        else:
            self.next_attempt_at = None
            return None
        # Counted when claimed, so that a process dying mid-call still uses up an attempt.
        self.attempts += 1
        self.next_attempt_at = at + lease
        return step

    def record_charge(self, result: ChargeResult, *, at: datetime, policy: RetryPolicy) -> None:
        """What the processor answered (or did not) to charging the card."""
        if self.status is not PaymentStatus.CHARGING:
            return
        match result:
            case Charged(charge_id=charge_id):
                self.charge_id, self.unresolved = charge_id, False
                self._settle(PaymentStatus.TAKEN, at, f"charged: {charge_id}")
                self.facts.append(self._taken(at))
                if self.refund_requested:
                    self._start_refund(at)
            case Declined(charge_id=charge_id, code=code):
                self.charge_id, self.decline_code, self.unresolved = charge_id, code, False
                self._settle(PaymentStatus.DECLINED, at, f"declined ({code}): {charge_id}")
                self.facts.append(self._declined(at))
            case Refused(reason=reason):
                self._fail(f"the provider refused the charge: {reason}", at, policy=policy)
            case NoAnswer(reason=reason, maybe_done=maybe_done):
                self.unresolved = self.unresolved or maybe_done
                if self.attempts < policy.charge_attempts:
                    self.next_attempt_at = at + policy.retry_after(self.attempts)
                    self._note(at, f"attempt {self.attempts}: no answer ({reason}); retrying")
                else:
                    self._note(at, f"attempt {self.attempts}: no answer ({reason}); giving up")
                    self._fail(PROVIDER_UNAVAILABLE, at, policy=policy)

    def record_refund(self, result: RefundResult, *, at: datetime, policy: RetryPolicy) -> None:
        """What the processor answered (or did not) to giving the money back. A refund is owed, so it is never
        given up; one the processor refuses is retried at the longest wait (a person must look: see the history)."""
        if self.status is not PaymentStatus.REFUNDING:
            return
        match result:
            case RefundMade(refund_id=refund_id):
                self.refund_id, self.refunded_at, self.next_attempt_at = refund_id, at, None
                self.status, self.updated_at = PaymentStatus.REFUNDED, at
                self._note(at, f"refunded: {refund_id}")
                self.facts.append(self._refunded())
            case NoAnswer(reason=reason):
                self.next_attempt_at = at + policy.retry_after(self.attempts)
                self._note(at, f"refund attempt {self.attempts}: no answer ({reason}); retrying")
            case Refused(reason=reason):
                self.next_attempt_at = at + policy.longest_retry
                self._note(at, f"refund refused by the provider: {reason}; retrying")

    def record_look_up(self, result: LookUpResult, *, at: datetime, policy: RetryPolicy) -> None:
        """What the processor says it charged for this order, after the payment failed without an answer."""
        if self.status is not PaymentStatus.FAILED or not self.unresolved:
            return
        match result:
            case ChargesFound(charges=charges):
                self.unresolved = False
                taken = next((charge.charge_id for charge in charges if charge.succeeded), None)
                if taken is None:
                    self.next_attempt_at = None
                    self._note(at, "the provider holds no successful charge: nothing was taken")
                    return
                # The order was told the payment failed: money taken after all goes back.
                self.charge_id = taken
                self._note(at, f"charge {taken} went through after all: giving it back")
                self._start_refund(at)
            case NoAnswer(reason=reason) | Refused(reason=reason):
                self.next_attempt_at = at + policy.retry_after(self.attempts)
                self._note(at, f"look-up {self.attempts}: no answer ({reason}); retrying")

    def take_outcome(self) -> TakeOutcome | None:
        """The answer to "take this payment", once there is one."""
        if self.status is PaymentStatus.CHARGING:
            return None
        at = self.decided_at or self.updated_at
        if self.failure_reason is not None:
            return self._failed(at)
        if self.decline_code is not None:
            return self._declined(at)
        return self._taken(at)

    def refund_outcome(self) -> RefundOutcome | None:
        """The answer to "refund this payment", once there is one."""
        if self.status is PaymentStatus.REFUNDED:
            return self._refunded()
        if self.status in (PaymentStatus.DECLINED, PaymentStatus.CANCELLED) or (
            self.status is PaymentStatus.FAILED and not self.unresolved
        ):
            return NothingToRefund(self.order_id, f"nothing was taken: the payment {self.status}", self.updated_at)
        return None

    def _note(self, at: datetime, note: str) -> None:
        self.updated_at = at
        self.changes.append(HistoryEntry(at, self.status, note))

    def _settle(self, status: PaymentStatus, at: datetime, note: str) -> None:
        """The outcome of taking the payment is known: no charge will be sent again, so the card goes."""
        self.status, self.decided_at = status, at
        self.sealed_card, self.next_attempt_at = None, None
        self._note(at, note)

    def _fail(
        self,
        reason: str,
        at: datetime,
        *,
        status: PaymentStatus = PaymentStatus.FAILED,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.failure_reason = reason
        self._settle(status, at, reason)
        self.facts.append(self._failed(at))
        if self.unresolved and policy is not None:
            # A charge may have gone through unseen: look it up later, and give back whatever did.
            self.attempts, self.next_attempt_at = 0, at + policy.look_up_after

    def _start_refund(self, at: datetime) -> None:
        self.status, self.attempts, self.next_attempt_at = PaymentStatus.REFUNDING, 0, at
        self._note(at, "refunding")

    def _taken(self, at: datetime) -> PaymentTaken:
        assert self.charge_id is not None
        return PaymentTaken(self.order_id, self.customer_id, self.amount, self.charge_id, self.card_last4, at)

    def _declined(self, at: datetime) -> PaymentDeclined:
        assert self.decline_code is not None
        return PaymentDeclined(self.order_id, self.customer_id, self.amount, self.decline_code, at)

    def _failed(self, at: datetime) -> PaymentFailed:
        assert self.failure_reason is not None
        return PaymentFailed(self.order_id, self.customer_id, self.amount, self.failure_reason, at)

    def _refunded(self) -> PaymentRefunded:
        assert self.refund_id is not None and self.refunded_at is not None
        return PaymentRefunded(self.order_id, self.customer_id, self.amount, self.refund_id, self.refunded_at)
