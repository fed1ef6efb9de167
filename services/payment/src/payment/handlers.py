"""The commands of orchestrated orders the payment service handles: TakePayment and RefundPayment.

Each is handled in the consumer's transaction, which also records the message as processed (so a
redelivery has no second effect): the handler only records what was asked, and who waits for the answer
(``handling.envelope.asker``). The card processor is never called here, with the transaction (and
SQLite's one write lock) held; the worker calls it once the transaction has committed, and is woken for it.
KeepCard, the choreographed orders' command, is handled in ``choreography/handlers.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from paved.messaging import Consumer, Handling

from payment.cards import CardNumber
from payment.contract import KeepCard, RefundPayment, TakePayment
from payment.money import Money
from payment.partners import COMMANDS_FROM
from payment.ports import Store
from payment.use_cases import Cashier, TakeRequest

OpenStore = Callable[[Handling], Store]
"""The payment service's store in a handled message's transaction."""


def request_of(command: TakePayment | KeepCard) -> TakeRequest:
    """The payment a TakePayment or KeepCard asks for."""
    return TakeRequest(
        order_id=command.order_id,
        customer_id=command.customer_id,
        amount=Money(command.amount_minor, command.currency),
        card=CardNumber(command.card_number),
    )


def register(commands: Consumer, *, cashier: Cashier, open_store: OpenStore) -> None:
    """Handle TakePayment and RefundPayment from ``commands``, in the stores ``open_store`` gives."""

    @commands.handles(TakePayment, senders=COMMANDS_FROM)
    async def take_payment(handling: Handling, command: TakePayment) -> None:
        await cashier.take(open_store(handling), request_of(command), handling.envelope.asker)

    @commands.handles(RefundPayment, senders=COMMANDS_FROM)
    async def refund_payment(handling: Handling, command: RefundPayment) -> None:
        await cashier.refund(open_store(handling), command.order_id, handling.envelope.asker)
