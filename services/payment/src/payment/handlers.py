"""The commands the payment service handles: TakePayment and RefundPayment, and KeepCard (choreographed orders).

Each is handled in the consumer's transaction, which also records the message as processed (so a
redelivery has no second effect): the handler only records what was asked, and who waits for the answer.
The card processor is never called here, with the transaction (and SQLite's one write lock) held; the
worker calls it once the transaction has committed, and is woken for it.
"""

from __future__ import annotations

from collections.abc import Callable

from paved.messaging import Consumer, Handling

from payment.card_keeper import CardKeeper
from payment.cards import CardNumber
from payment.cashier import Cashier, TakeRequest
from payment.contract import KeepCard, RefundPayment, TakePayment
from payment.money import Money
from payment.ports import Asker, Store

OpenStore = Callable[[Handling], Store]
"""The payment service's store in a handled message's transaction."""


def asker_of(handling: Handling) -> Asker:
    """Who sent the command being handled, and where its answer goes."""
    envelope = handling.envelope
    return Asker(
        message_id=envelope.id,
        correlation_id=envelope.correlation_id,
        reply_to=envelope.reply_to,
        traceparent=envelope.traceparent,
    )


def request_of(command: TakePayment | KeepCard) -> TakeRequest:
    """The payment a TakePayment or KeepCard asks for."""
    return TakeRequest(
        order_id=command.order_id,
        customer_id=command.customer_id,
        amount=Money(command.amount_minor, command.currency),
        card=CardNumber(command.card_number),
    )


def register(commands: Consumer, *, cashier: Cashier, keeper: CardKeeper, open_store: OpenStore) -> None:
    """Handle the payment commands from ``commands``, in the stores ``open_store`` gives."""

    @commands.handles(TakePayment)
    async def take_payment(handling: Handling, command: TakePayment) -> None:
        await cashier.take(open_store(handling), request_of(command), asker_of(handling))

    @commands.handles(KeepCard)
    async def keep_card(handling: Handling, command: KeepCard) -> None:
        await keeper.keep_card(open_store(handling), request_of(command), asker_of(handling))

    @commands.handles(RefundPayment)
    async def refund_payment(handling: Handling, command: RefundPayment) -> None:
        await cashier.refund(open_store(handling), command.order_id, asker_of(handling))
