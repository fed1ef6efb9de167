from __future__ import annotations

import pytest

from payment.cards import CardNumber
from payment.domain import PROVIDER_UNAVAILABLE, PaymentStatus
from payment.facts import (
    NothingToRefund,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentTaken,
)
from payment.money import Money
from payment.results import NoAnswer

from .conftest import LEASE, POLICY, Till, asker
from .fakes import DECLINED_CARD

TIMEOUT = NoAnswer("ReadTimeout", maybe_done=True)
SERVER_ERROR = NoAnswer("503 Service Unavailable", maybe_done=False)


async def test_a_payment_is_taken_once_the_worker_charges_it(till: Till) -> None:
    """TakePayment records the payment; the worker charges the card; the asker is answered PaymentTaken."""
    by = await till.take()
    assert till.provider.calls == []  # nothing is asked of the processor in the command's transaction
    await till.work()
    (outcome,) = till.store.outbox.replies_to(by)
    assert isinstance(outcome, PaymentTaken)
    assert outcome.charge_id == till.provider.charges["o-1"].charge_id
    assert till.payment().status is PaymentStatus.TAKEN
    assert [(type(fact), cause) for fact, cause in till.store.outbox.published] == [(PaymentTaken, by)]


async def test_the_order_id_is_the_idempotency_key_of_the_charge(till: Till) -> None:
    """The charge goes to the processor under the order id, with the order id as its reference."""
    await till.take("o-42")
    await till.work()
    charge = till.provider.charges["o-42"]
    assert (charge.key, charge.reference, charge.amount) == ("o-42", "o-42", Money(1299, "GBP"))


async def test_a_declined_card_is_answered_payment_declined(till: Till) -> None:
    """A card the processor declines is answered PaymentDeclined with the processor's code."""
    by = await till.take(card=DECLINED_CARD)
    await till.work()
    (outcome,) = till.store.outbox.replies_to(by)
    assert isinstance(outcome, PaymentDeclined)
    assert outcome.decline_code == "card_declined"


async def test_an_invalid_card_number_is_declined_without_a_call(till: Till) -> None:
    """A number failing the Luhn check is answered PaymentDeclined (invalid_number) in the command's transaction."""
    by = await till.take(card=CardNumber("4242424242424241"))
    (outcome,) = till.store.outbox.replies_to(by)
    assert isinstance(outcome, PaymentDeclined)
    assert outcome.decline_code == "invalid_number"
    assert await till.work() == 0
    assert till.provider.calls == []


async def test_a_payment_asked_again_is_answered_and_not_charged_again(till: Till) -> None:
    """TakePayment for an order already paid (a saga's retry: a new message) is answered with the same charge."""
    first = await till.take()
    await till.work()
    again = await till.take()
    assert await till.work() == 0
    assert till.provider.charges_made() == 1
    assert till.store.outbox.replies_to(again) == till.store.outbox.replies_to(first)
    assert len(till.store.outbox.published) == 1  # the fact happened once


async def test_commands_that_cross_while_charging_are_answered_together(till: Till) -> None:
    """Two TakePayments for one order before the processor answers: one charge, both answered the same."""
    first, second = await till.take(), await till.take()
    await till.work()
    assert till.provider.charges_made() == 1
    assert till.provider.calls == ["charge o-1"]
    assert till.store.outbox.replies_to(first) == till.store.outbox.replies_to(second) != []


async def test_a_payment_asked_again_with_other_terms_is_answered_as_it_stands(till: Till) -> None:
    """TakePayment with another amount for a paid order charges nothing and answers with the payment as it is."""
    await till.take()
    await till.work()
    other = await till.take(amount=Money(1, "GBP"))
    (outcome,) = till.store.outbox.replies_to(other)
    assert isinstance(outcome, PaymentTaken)
    assert outcome.amount == Money(1299, "GBP")
    assert till.provider.charges_made() == 1


async def test_a_server_error_then_success_charges_once(till: Till) -> None:
    """The processor fails once (503), the retry succeeds: one charge, answered PaymentTaken, the failure on record."""
    till.provider.misbehave(SERVER_ERROR)
    by = await till.take()
    await till.work_until_settled()
    assert till.provider.calls == ["charge o-1", "charge o-1"]
    assert till.provider.charges_made() == 1
    assert isinstance(till.store.outbox.replies_to(by)[0], PaymentTaken)
    assert "attempt 1: no answer (503 Service Unavailable); retrying" in till.store.payments.notes("o-1")


async def test_a_timeout_whose_charge_went_through_is_resolved_without_a_second_charge(till: Till) -> None:
    """The charge is made but its answer lost; the retry under the same key gets that charge back, not a new one."""
    till.provider.misbehave(TIMEOUT)
    by = await till.take()
    await till.work()
    assert till.provider.charges_made() == 1  # money moved, and we do not know it yet
    assert till.store.outbox.replies_to(by) == []
    await till.work_until_settled()
    (outcome,) = till.store.outbox.replies_to(by)
    assert isinstance(outcome, PaymentTaken)
    assert outcome.charge_id == till.provider.charges["o-1"].charge_id
    assert till.provider.charges_made() == 1


async def test_a_processor_that_never_answers_fails_the_payment_and_gives_back_what_it_took(till: Till) -> None:
    """After the last unanswered attempt: PaymentFailed (provider unavailable); later the unseen charge is refunded."""
    till.provider.misbehave(TIMEOUT, times=POLICY.charge_attempts)
    by = await till.take()
    await till.work_until_settled()
    (outcome,) = till.store.outbox.replies_to(by)
    assert isinstance(outcome, PaymentFailed)
    assert outcome.reason == PROVIDER_UNAVAILABLE
    assert till.provider.refunded("o-1") == 1299
    assert [type(fact) for fact, _ in till.store.outbox.published] == [PaymentFailed, PaymentRefunded]
    assert till.payment().status is PaymentStatus.REFUNDED


async def test_a_failure_that_surely_charged_nothing_is_not_refunded(till: Till) -> None:
    """When no attempt reached the processor, the payment fails and nothing is looked up or refunded."""
    till.provider.misbehave(SERVER_ERROR, times=POLICY.charge_attempts)
    await till.take()
    await till.work_until_settled()
    assert till.payment().status is PaymentStatus.FAILED
    assert till.provider.calls == ["charge o-1"] * POLICY.charge_attempts


async def test_a_taken_payment_is_refunded_once(till: Till) -> None:
    """RefundPayment gives the money back once, however often it is asked; each asker hears PaymentRefunded."""
    await till.take()
    await till.work()
    first, second = await till.refund(), await till.refund()
    await till.work_until_settled()
    assert till.provider.refunded("o-1") == 1299
    assert [c for c in till.provider.calls if c.startswith("refund")] == ["refund o-1:refund"]
    for by in (first, second):
        assert isinstance(till.store.outbox.replies_to(by)[0], PaymentRefunded)
    third = await till.refund()
    assert isinstance(till.store.outbox.replies_to(third)[0], PaymentRefunded)


async def test_a_refund_while_charging_waits_for_the_charge_and_then_gives_it_back(till: Till) -> None:
    """RefundPayment before the processor answered: the charge is taken and then refunded; both are answered."""
    take = await till.take()
    refund = await till.refund()
    await till.work_until_settled()
    assert isinstance(till.store.outbox.replies_to(take)[0], PaymentTaken)
    assert isinstance(till.store.outbox.replies_to(refund)[0], PaymentRefunded)
    assert till.provider.refunded("o-1") == 1299


async def test_a_refund_of_a_declined_payment_has_nothing_to_give_back(till: Till) -> None:
    """RefundPayment of a declined payment is answered NothingToRefund, without a call."""
    await till.take(card=DECLINED_CARD)
    await till.work()
    by = await till.refund()
    assert isinstance(till.store.outbox.replies_to(by)[0], NothingToRefund)
    assert await till.work() == 0


async def test_a_refund_before_the_payment_cancels_it(till: Till) -> None:
    """RefundPayment overtaking its TakePayment: nothing to refund now, and the late TakePayment charges nothing."""
    refund = await till.refund()
    assert isinstance(till.store.outbox.replies_to(refund)[0], NothingToRefund)
    take = await till.take()
    assert await till.work() == 0
    (outcome,) = till.store.outbox.replies_to(take)
    assert isinstance(outcome, PaymentFailed)
    assert outcome.reason.startswith("cancelled")
    assert till.provider.calls == []


async def test_a_worker_that_dies_mid_call_is_taken_over_after_its_lease(till: Till) -> None:
    """Charged, then the process dies before recording it: after the lease the step is taken again, and converges."""
    by = await till.take()
    (claim,) = await till.cashier.claim(limit=10)
    till.uow.die_before_next_commit()
    with pytest.raises(ConnectionAbortedError):
        await till.cashier.advance(claim)
    assert till.provider.charges_made() == 1
    assert till.payment().status is PaymentStatus.CHARGING
    assert await till.work() == 0  # the claim holds until its lease runs out
    till.clock.advance(seconds=LEASE.total_seconds())
    assert await till.work() == 1
    assert till.provider.charges_made() == 1
    assert isinstance(till.store.outbox.replies_to(by)[0], PaymentTaken)


async def test_a_command_without_a_reply_subject_still_has_its_effect(till: Till) -> None:
    """A TakePayment that asks for no reply is taken all the same, and its fact is published."""
    await till.take(by=asker(reply_to=None))
    await till.work()
    assert till.store.outbox.replies == []
    assert [type(fact) for fact, _ in till.store.outbox.published] == [PaymentTaken]


async def test_the_card_is_kept_sealed_and_only_until_the_charge_is_settled(till: Till) -> None:
    """While charging, the store holds the sealed card only; once taken, not even that."""
    await till.take()
    sealed = till.payment().sealed_card
    assert sealed is not None
    assert b"4242424242424242" not in sealed
    await till.work()
    assert till.payment().sealed_card is None
