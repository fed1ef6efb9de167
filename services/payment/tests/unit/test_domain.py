from __future__ import annotations

from datetime import timedelta

import pytest

from payment.cards import CardNumber
from payment.domain import (
    INVALID_NUMBER,
    PROVIDER_UNAVAILABLE,
    Payment,
    PaymentStatus,
    Step,
)
from payment.facts import (
    NothingToRefund,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentTaken,
)
from payment.results import (
    Charged,
    ChargesFound,
    Declined,
    FoundCharge,
    NoAnswer,
    RefundMade,
    Refused,
)
from payment.retries import RetryPolicy

from .conftest import LEASE, POLICY, PRICE
from .fakes import DECLINED_CARD, GOOD_CARD, START

TIMEOUT = NoAnswer("ReadTimeout", maybe_done=True)
REFUSED_CONNECTION = NoAnswer("ConnectError", maybe_done=False)


def asked(*, card: CardNumber = GOOD_CARD, cancelled: bool = False) -> Payment:
    return Payment.ask(
        order_id="o-1",
        customer_id="customer-1",
        amount=PRICE,
        card=card,
        sealed_card=b"sealed",
        cancelled=cancelled,
        at=START,
    )


def claimed(payment: Payment, *, after: timedelta = timedelta()) -> Step | None:
    return payment.claim(at=START + after, lease=LEASE)


def taken() -> Payment:
    payment = asked()
    claimed(payment)
    payment.record_charge(Charged("ch_1"), at=START, policy=POLICY)
    payment.facts.clear()
    return payment


def test_a_payment_asked_for_is_due_to_be_charged_now() -> None:
    """A new payment waits to be charged, at once, with its card sealed and only its last four digits shown."""
    payment = asked()
    assert payment.status is PaymentStatus.CHARGING
    assert payment.next_attempt_at == START
    assert (payment.sealed_card, payment.card_last4) == (b"sealed", "4242")
    assert payment.take_outcome() is None


def test_a_number_failing_the_luhn_check_is_declined_without_asking_the_processor() -> None:
    """A card number with a wrong check digit is declined at once (invalid_number); nothing is due, no card kept."""
    payment = asked(card=CardNumber("4242424242424241"))
    assert (payment.status, payment.decline_code) == (PaymentStatus.DECLINED, INVALID_NUMBER)
    assert (payment.next_attempt_at, payment.sealed_card) == (None, None)
    assert isinstance(payment.facts[0], PaymentDeclined)


def test_a_payment_of_an_order_refunded_before_it_was_asked_is_cancelled() -> None:
    """A payment whose order was refunded first is never charged: it is cancelled, and fails."""
    payment = asked(cancelled=True)
    assert payment.status is PaymentStatus.CANCELLED
    assert (payment.next_attempt_at, payment.sealed_card) == (None, None)
    outcome = payment.take_outcome()
    assert isinstance(outcome, PaymentFailed)
    assert outcome.reason.startswith("cancelled")
    assert isinstance(payment.refund_outcome(), NothingToRefund)


def test_a_claim_takes_the_due_step_and_holds_it_for_the_lease() -> None:
    """Claiming counts an attempt and holds the step: nobody claims it again until the lease has passed."""
    payment = asked()
    assert claimed(payment) is Step.CHARGE
    assert payment.attempts == 1
    assert claimed(payment, after=LEASE - timedelta(seconds=1)) is None
    assert claimed(payment, after=LEASE) is Step.CHARGE
    assert payment.attempts == 2


def test_a_charge_taken_settles_the_payment_and_forgets_the_card() -> None:
    """Charged: the payment is taken, the sealed card is dropped, and PaymentTaken is the fact and the answer."""
    payment = asked()
    claimed(payment)
    payment.record_charge(Charged("ch_1"), at=START, policy=POLICY)
    assert (payment.status, payment.charge_id, payment.sealed_card) == (PaymentStatus.TAKEN, "ch_1", None)
    assert payment.next_attempt_at is None
    assert payment.facts == [PaymentTaken("o-1", "customer-1", PRICE, "ch_1", "4242", START)]
    assert payment.take_outcome() == payment.facts[0]


def test_a_declined_card_settles_the_payment_as_declined() -> None:
    """Declined: the payment is declined with the processor's code, and the card dropped."""
    payment = asked(card=DECLINED_CARD)
    claimed(payment)
    payment.record_charge(Declined("ch_1", "card_declined"), at=START, policy=POLICY)
    assert (payment.status, payment.decline_code, payment.sealed_card) == (
        PaymentStatus.DECLINED,
        "card_declined",
        None,
    )
    assert isinstance(payment.take_outcome(), PaymentDeclined)


def test_no_answer_is_retried_later_and_later() -> None:
    """Without an answer the charge is retried, after waits that double, while attempts remain."""
    payment = asked()
    claimed(payment)
    payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    assert payment.status is PaymentStatus.CHARGING
    assert payment.next_attempt_at == START + timedelta(seconds=1)
    claimed(payment, after=timedelta(seconds=1))
    payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    assert payment.next_attempt_at == START + timedelta(seconds=2)
    assert payment.unresolved


def test_after_the_last_attempt_a_payment_fails_as_provider_unavailable() -> None:
    """When no attempt was answered, the payment fails; the card is dropped; an unknown outcome is looked up later."""
    payment = asked()
    for _ in range(POLICY.charge_attempts):
        claimed(payment, after=timedelta(hours=1))
        payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, PROVIDER_UNAVAILABLE)
    assert payment.sealed_card is None
    assert payment.unresolved
    assert payment.next_attempt_at == START + POLICY.look_up_after
    assert payment.refund_outcome() is None  # nothing can be said of a refund until it is looked up


def test_a_failure_known_to_have_charged_nothing_is_not_looked_up() -> None:
    """When every attempt surely never reached the processor, the failed payment is settled for good."""
    payment = asked()
    for _ in range(POLICY.charge_attempts):
        claimed(payment, after=timedelta(hours=1))
        payment.record_charge(REFUSED_CONNECTION, at=START, policy=POLICY)
    assert (payment.status, payment.unresolved, payment.next_attempt_at) == (PaymentStatus.FAILED, False, None)
    assert isinstance(payment.refund_outcome(), NothingToRefund)


def test_a_refused_charge_fails_at_once() -> None:
    """A charge the processor refuses (a 4xx) fails without using up the attempts: retrying cannot help."""
    payment = asked()
    claimed(payment)
    payment.record_charge(Refused("422 Card number is not valid"), at=START, policy=POLICY)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason == "the provider refused the charge: 422 Card number is not valid"


def test_an_answer_that_comes_after_the_payment_settled_changes_nothing() -> None:
    """A late answer (another worker's came first, or the payment failed meanwhile) is ignored."""
    payment = taken()
    payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    payment.record_refund(RefundMade("re_1"), at=START, policy=POLICY)
    payment.record_look_up(ChargesFound(()), at=START, policy=POLICY)
    assert (payment.status, payment.facts) == (PaymentStatus.TAKEN, [])


def test_a_taken_payment_is_refunded_once() -> None:
    """A refund of a taken payment is due at once; asking again changes nothing; the refund settles it."""
    payment = taken()
    payment.ask_refund(START)
    payment.ask_refund(START)
    assert (payment.status, payment.next_attempt_at) == (PaymentStatus.REFUNDING, START)
    assert claimed(payment) is Step.REFUND
    payment.record_refund(RefundMade("re_1"), at=START, policy=POLICY)
    assert (payment.status, payment.refund_id) == (PaymentStatus.REFUNDED, "re_1")
    assert payment.facts == [PaymentRefunded("o-1", "customer-1", PRICE, "re_1", START)]
    assert payment.refund_outcome() == payment.facts[0]
    assert isinstance(payment.take_outcome(), PaymentTaken)  # it was taken, and that answer stands


def test_a_refund_asked_while_charging_follows_the_charge() -> None:
    """A refund asked while the charge is in flight is made as soon as the charge is taken."""
    payment = asked()
    claimed(payment)
    payment.ask_refund(START)
    assert payment.status is PaymentStatus.CHARGING
    payment.record_charge(Charged("ch_1"), at=START, policy=POLICY)
    assert (payment.status, payment.next_attempt_at) == (PaymentStatus.REFUNDING, START)
    assert isinstance(payment.facts[0], PaymentTaken)


def test_a_refund_is_never_given_up() -> None:
    """A refund without an answer is retried for as long as it takes; refused, it is retried at the longest wait."""
    payment = taken()
    payment.ask_refund(START)
    for attempt in range(1, 20):
        claimed(payment, after=timedelta(days=1))
        payment.record_refund(TIMEOUT, at=START, policy=POLICY)
        assert payment.status is PaymentStatus.REFUNDING
        assert payment.next_attempt_at == START + POLICY.retry_after(attempt)
    claimed(payment, after=timedelta(days=1))
    payment.record_refund(Refused("409 Charge cannot be refunded"), at=START, policy=POLICY)
    assert (payment.status, payment.next_attempt_at) == (PaymentStatus.REFUNDING, START + POLICY.longest_retry)


def failed_unresolved() -> Payment:
    payment = asked()
    for _ in range(POLICY.charge_attempts):
        claimed(payment, after=timedelta(hours=1))
        payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    payment.facts.clear()
    return payment


def test_a_charge_found_after_the_payment_failed_is_given_back() -> None:
    """The look-up after a failure finds the charge that went through unseen, and refunds it."""
    payment = failed_unresolved()
    assert claimed(payment, after=POLICY.look_up_after) is Step.LOOK_UP
    payment.record_look_up(ChargesFound((FoundCharge("ch_1", succeeded=True),)), at=START, policy=POLICY)
    assert (payment.status, payment.charge_id, payment.unresolved) == (PaymentStatus.REFUNDING, "ch_1", False)
    claimed(payment, after=POLICY.look_up_after)
    payment.record_refund(RefundMade("re_1"), at=START, policy=POLICY)
    assert isinstance(payment.take_outcome(), PaymentFailed)  # the order was told it failed: that stands
    assert isinstance(payment.refund_outcome(), PaymentRefunded)


def test_no_charge_found_after_the_payment_failed_settles_it() -> None:
    """The look-up finds no successful charge: the failure is final, with nothing to refund."""
    payment = failed_unresolved()
    claimed(payment, after=POLICY.look_up_after)
    payment.record_look_up(ChargesFound((FoundCharge("ch_1", succeeded=False),)), at=START, policy=POLICY)
    assert (payment.status, payment.unresolved, payment.next_attempt_at) == (PaymentStatus.FAILED, False, None)
    assert isinstance(payment.refund_outcome(), NothingToRefund)


@pytest.mark.parametrize("result", [TIMEOUT, Refused("401 Unauthorized")])
def test_a_look_up_without_an_answer_is_asked_again(result: NoAnswer | Refused) -> None:
    """A look-up that gets no answer is retried: the money must not stay taken for want of asking."""
    payment = failed_unresolved()
    claimed(payment, after=POLICY.look_up_after)
    payment.record_look_up(result, at=START, policy=POLICY)
    assert payment.unresolved
    assert payment.next_attempt_at == START + POLICY.retry_after(1)


def test_retry_waits_double_up_to_the_longest() -> None:
    """The wait after each unanswered call doubles from the first retry and stops at the longest."""
    policy = RetryPolicy(first_retry=timedelta(seconds=1), longest_retry=timedelta(seconds=5))
    assert [policy.retry_after(n).total_seconds() for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_every_change_is_kept_in_the_history() -> None:
    """Each change a payment goes through is recorded with its status, to be kept in its history."""
    payment = asked()
    claimed(payment)
    payment.record_charge(TIMEOUT, at=START, policy=POLICY)
    claimed(payment, after=timedelta(minutes=1))
    payment.record_charge(Charged("ch_1"), at=START, policy=POLICY)
    assert [(entry.status, entry.note) for entry in payment.changes] == [
        (PaymentStatus.CHARGING, "asked for 1299 GBP (minor units)"),
        (PaymentStatus.CHARGING, "attempt 1: no answer (ReadTimeout); retrying"),
        (PaymentStatus.TAKEN, "charged: ch_1"),
    ]
