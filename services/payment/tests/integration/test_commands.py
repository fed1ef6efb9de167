from __future__ import annotations

from paved.testing import BrokerProbe, eventually

from payment.contract import RefundPayment, TakePayment

from .asker import OrdersSide
from .processes import ProviderProcess
from .values import DECLINED_CARD, Start, messages_about, new_order_id, take


async def test_a_payment_is_taken_and_answered(
    start: Start, provider: ProviderProcess, orders: OrdersSide, probe: BrokerProbe
) -> None:
    """TakePayment over the broker: the processor charges the card, the asker hears PaymentTaken, the event goes out."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await orders.send(take(order_id))
        answered = await eventually(lambda: orders.answers(order_id))
        assert [kind for kind, _ in answered] == ["PaymentTaken"]
        (charge,) = provider.charges(order_id)
        assert answered[0][1]["charge_id"] == charge["id"]
        assert (charge["status"], charge["amount_minor"], charge["card_last4"]) == ("succeeded", 1299, "4242")
        assert (await payment.payment(order_id))["status"] == "taken"
    events = await eventually(lambda: messages_about(probe, "PAYMENT_EVENTS", order_id))
    assert [e.type for e in events] == ["payment.PaymentTaken"]


async def test_a_declined_card_is_answered_declined(
    start: Start, provider: ProviderProcess, orders: OrdersSide
) -> None:
    """The processor's declined test card: the asker hears PaymentDeclined with the processor's code."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await orders.send(take(order_id, card=DECLINED_CARD))
        answered = await eventually(lambda: orders.answers(order_id))
        assert [(kind, data["decline_code"]) for kind, data in answered] == [("PaymentDeclined", "card_declined")]
        assert (await payment.payment(order_id))["status"] == "declined"


async def test_a_taken_payment_is_refunded_once(start: Start, provider: ProviderProcess, orders: OrdersSide) -> None:
    """RefundPayment, twice: the money goes back once, at the processor, and each command hears PaymentRefunded."""
    order_id = new_order_id()
    async with start(provider.url):
        await orders.send(take(order_id))
        await eventually(lambda: orders.answers(order_id))
        await orders.send(RefundPayment(order_id=order_id))
        await orders.send(RefundPayment(order_id=order_id))

        async def three_answers() -> list[str]:
            kinds = [kind for kind, _ in await orders.answers(order_id)]
            return kinds if len(kinds) == 3 else []

        assert await eventually(three_answers) == ["PaymentTaken", "PaymentRefunded", "PaymentRefunded"]
    (charge,) = provider.charges(order_id)
    assert charge["refunded_minor"] == 1299
    assert isinstance(charge["refunds"], list) and len(charge["refunds"]) == 1


async def test_a_payment_asked_twice_charges_once(start: Start, provider: ProviderProcess, orders: OrdersSide) -> None:
    """Two TakePayments for one order (a saga's retry is a new message): one charge, both answered with it."""
    order_id = new_order_id()
    async with start(provider.url):
        await orders.send(take(order_id))
        await orders.send(take(order_id))

        async def two_answers() -> list[tuple[str, object]]:
            found = [(kind, data["charge_id"]) for kind, data in await orders.answers(order_id)]
            return found if len(found) == 2 else []

        (first, second) = await eventually(two_answers)
    assert first == second
    assert [charge["id"] for charge in provider.charges(order_id)] == [first[1]]


async def test_the_same_command_delivered_twice_has_one_effect(
    start: Start, provider: ProviderProcess, orders: OrdersSide, probe: BrokerProbe
) -> None:
    """A command delivered again as it was (same message id, as a replay from the dead letters) has no second effect."""
    order_id = new_order_id()
    async with start(provider.url):
        message_id = await orders.send(take(order_id))
        await eventually(lambda: orders.answers(order_id))
        (stored,) = [command for command in await probe.messages_in("PAYMENT_COMMANDS") if command.id == message_id]
        # A new de-duplication id, or the broker itself would drop the copy before the service saw it.
        await probe.publish(stored, subject=TakePayment.message_subject, dedup_id="replay-1")
        # Commands are handled in stream order: once the refund is answered, the copy has been handled too.
        await orders.send(RefundPayment(order_id=order_id))

        async def two_answers() -> list[str]:
            kinds = [kind for kind, _ in await orders.answers(order_id)]
            return kinds if len(kinds) == 2 else []

        assert await eventually(two_answers) == ["PaymentTaken", "PaymentRefunded"]
    replies = await messages_about(probe, "ORDER_REPLIES", order_id)
    assert [r.type for r in replies] == ["payment.PaymentTaken", "payment.PaymentRefunded"]
    events = await messages_about(probe, "PAYMENT_EVENTS", order_id)
    assert [e.type for e in events] == ["payment.PaymentTaken", "payment.PaymentRefunded"]
    assert len(provider.charges(order_id)) == 1


async def test_a_refund_that_overtakes_its_payment_cancels_it(
    start: Start, provider: ProviderProcess, orders: OrdersSide
) -> None:
    """RefundPayment before TakePayment: NothingToRefund, and the late TakePayment fails without a charge."""
    order_id = new_order_id()
    async with start(provider.url) as payment:
        await orders.send(RefundPayment(order_id=order_id))
        assert [kind for kind, _ in await eventually(lambda: orders.answers(order_id))] == ["NothingToRefund"]
        await orders.send(take(order_id))

        async def two_answers() -> list[str]:
            kinds = [kind for kind, _ in await orders.answers(order_id)]
            return kinds if len(kinds) == 2 else []

        assert await eventually(two_answers) == ["NothingToRefund", "PaymentFailed"]
        assert (await payment.payment(order_id))["status"] == "cancelled"
    assert provider.charges(order_id) == []
