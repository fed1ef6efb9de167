from __future__ import annotations

from payment.cards import CardNumber
from payment.domain import INVALID_NUMBER, PaymentStatus
from payment.facts import PaymentDeclined, PaymentRefunded, PaymentTaken
from payment.money import Money

from .conftest import Till
from .fakes import DECLINED_CARD, GOOD_CARD


def published(till: Till) -> list[type]:
    return [type(fact) for fact, _ in till.store.outbox.published]


async def test_a_kept_card_is_charged_once_the_stock_is_reserved(till: Till) -> None:
    """KeepCard keeps the card and charges nothing; StockReserved has the worker charge it, and PaymentTaken
    goes out, caused by the StockReserved, with no reply to anyone."""
    await till.keep_card()
    assert await till.work() == 0
    assert "o-1" not in till.store.payments.rows
    reserved = await till.stock_reserved()
    await till.work()
    assert till.payment().status is PaymentStatus.TAKEN
    assert till.provider.charges["o-1"].key == "o-1"  # the order id is the idempotency key, as for TakePayment
    ((fact, cause),) = till.store.outbox.published
    assert isinstance(fact, PaymentTaken) and cause == reserved
    assert till.store.outbox.replies == []


async def test_the_card_is_kept_sealed_and_goes_to_the_payment(till: Till) -> None:
    """While it waits for stock the card is only held sealed for its order; once the payment has it, it is kept
    there alone (and erased there once the charge is decided)."""
    await till.keep_card()
    sealed = till.store.choreographies.rows["o-1"].sealed_card
    assert sealed is not None and GOOD_CARD.digits.encode() not in sealed
    assert till.vault.open(sealed, order_id="o-1") == GOOD_CARD
    await till.stock_reserved()
    assert till.store.choreographies.rows["o-1"].sealed_card is None
    assert till.payment().sealed_card is not None
    await till.work()
    assert till.payment().sealed_card is None


async def test_stock_reserved_before_the_card_came_is_charged_when_it_comes(till: Till) -> None:
    """StockReserved overtaking KeepCard (another stream) is noted; the card, when it comes, is charged."""
    await till.stock_reserved()
    assert "o-1" not in till.store.payments.rows
    await till.keep_card()
    await till.work()
    assert published(till) == [PaymentTaken]


async def test_stock_reserved_for_an_order_without_a_card_has_no_effect(till: Till) -> None:
    """An orchestrated order's StockReserved: no payment, no call, no event; its TakePayment then works as ever."""
    await till.stock_reserved()
    assert await till.work() == 0
    assert till.store.payments.rows == {} and till.provider.calls == []
    assert till.store.outbox.published == []
    by = await till.take()
    await till.work()
    assert isinstance(till.store.outbox.replies_to(by)[0], PaymentTaken)


async def test_an_orchestrated_orders_end_does_not_cancel_its_payment(till: Till) -> None:
    """OrderCancelled or OrderRejected for an order without a card: nothing happens, and a TakePayment after it
    is charged (unlike after a RefundPayment, which cancels the payment)."""
    await till.order_ended()
    assert till.store.outbox.published == []
    by = await till.take()
    await till.work()
    assert isinstance(till.store.outbox.replies_to(by)[0], PaymentTaken)


async def test_stock_reserved_again_charges_once(till: Till) -> None:
    """StockReserved twice for the order (two messages): one charge, one PaymentTaken."""
    await till.keep_card()
    await till.stock_reserved()
    await till.stock_reserved()
    await till.work_until_settled()
    assert till.provider.calls == ["charge o-1"]
    assert published(till) == [PaymentTaken]


async def test_a_card_sent_again_is_kept_once_with_its_first_terms(till: Till) -> None:
    """KeepCard twice for the order (the second with another amount): the first is charged, once."""
    await till.keep_card()
    await till.keep_card(amount=Money(1, "GBP"))
    await till.stock_reserved()
    await till.work_until_settled()
    assert till.provider.charges_made() == 1
    assert till.provider.charges["o-1"].amount == Money(1299, "GBP")


async def test_a_declined_kept_card_is_published_declined(till: Till) -> None:
    """A card the processor declines: PaymentDeclined, as for TakePayment."""
    await till.keep_card(card=DECLINED_CARD)
    await till.stock_reserved()
    await till.work()
    ((fact, _),) = till.store.outbox.published
    assert isinstance(fact, PaymentDeclined) and fact.decline_code == "card_declined"


async def test_an_invalid_kept_card_is_declined_when_the_stock_is_reserved(till: Till) -> None:
    """A number failing the Luhn check is declined (invalid_number) when the payment is taken, not when kept:
    declined earlier, it would overtake the reservation it is to release."""
    await till.keep_card(card=CardNumber("4242424242424241"))
    assert till.store.outbox.published == []
    await till.stock_reserved()
    ((fact, _),) = till.store.outbox.published
    assert isinstance(fact, PaymentDeclined) and fact.decline_code == INVALID_NUMBER
    assert till.provider.calls == []


async def test_an_order_that_ends_before_its_stock_forgets_the_card(till: Till) -> None:
    """OrderCancelled before StockReserved: the card is erased, nothing is published, and the stock charges nothing."""
    await till.keep_card()
    await till.order_ended()
    assert till.store.choreographies.rows["o-1"].sealed_card is None
    await till.stock_reserved()
    assert await till.work() == 0
    assert till.store.payments.rows == {} and till.store.outbox.published == []


async def test_an_order_that_ended_before_its_card_came_is_never_charged(till: Till) -> None:
    """Stock and the order's end, both before KeepCard: the card is not kept, and nothing is charged."""
    await till.stock_reserved()
    await till.order_ended()
    await till.keep_card()
    assert await till.work() == 0
    assert till.store.choreographies.rows["o-1"].sealed_card is None
    assert till.provider.calls == []


async def test_an_order_that_ends_after_its_payment_is_refunded_once(till: Till) -> None:
    """OrderRejected after PaymentTaken: PaymentRefunded, caused by it; another end gives nothing more back."""
    await till.keep_card()
    await till.stock_reserved()
    await till.work()
    rejected = await till.order_ended()
    await till.order_ended()
    await till.work_until_settled()
    assert till.provider.refunded("o-1") == 1299
    assert published(till) == [PaymentTaken, PaymentRefunded]
    assert till.store.outbox.published[-1][1] == rejected
    assert till.store.outbox.replies == []


async def test_an_order_that_ends_while_its_card_is_charged_is_refunded_after_the_charge(till: Till) -> None:
    """OrderCancelled while the processor is being asked: the charge is taken, then refunded."""
    await till.keep_card()
    await till.stock_reserved()
    await till.order_ended()
    await till.work_until_settled()
    assert published(till) == [PaymentTaken, PaymentRefunded]
    assert till.payment().status is PaymentStatus.REFUNDED


async def test_an_order_that_ends_after_a_decline_has_nothing_given_back(till: Till) -> None:
    """OrderRejected after PaymentDeclined: nothing to refund, no call, no event."""
    await till.keep_card(card=DECLINED_CARD)
    await till.stock_reserved()
    await till.work()
    await till.order_ended()
    assert await till.work() == 0
    assert published(till) == [PaymentDeclined]
