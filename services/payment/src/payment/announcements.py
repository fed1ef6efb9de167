"""What the payment service says: each fact as its contract event, each outcome as the reply its asker waits for.

Both are written to the outbox in the transaction that records them, so they go out if and only if the
change commits. A reply may be written long after its command was handled (the processor answered
later), so it is addressed from what was kept of the command: its reply subject and ids.
"""

from __future__ import annotations

from typing import TypedDict, assert_never

from paved import Envelope
from paved.messaging import Message, Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from payment import contract, facts
from payment.ports import Asker

_SUBJECTS: dict[type[facts.Fact], str] = {
    facts.PaymentTaken: contract.PAYMENT_TAKEN_SUBJECT,
    facts.PaymentDeclined: contract.PAYMENT_DECLINED_SUBJECT,
    facts.PaymentFailed: contract.PAYMENT_FAILED_SUBJECT,
    facts.PaymentRefunded: contract.PAYMENT_REFUNDED_SUBJECT,
}


def published(fact: facts.Fact) -> tuple[Message, str]:
    """The event that announces ``fact``, and the subject it goes out on."""
    return message_of(fact), _SUBJECTS[type(fact)]


def message_of(outcome: facts.Fact | facts.NothingToRefund) -> Message:
    """The contract's message for a fact or an outcome."""
    match outcome:
        case facts.PaymentTaken():
            return contract.PaymentTaken(
                **_amount_of(outcome), charge_id=outcome.charge_id, card_last4=outcome.card_last4, taken_at=outcome.at
            )
        case facts.PaymentDeclined():
            return contract.PaymentDeclined(
                **_amount_of(outcome), decline_code=outcome.decline_code, declined_at=outcome.at
            )
        case facts.PaymentFailed():
            return contract.PaymentFailed(**_amount_of(outcome), reason=outcome.reason, failed_at=outcome.at)
        case facts.PaymentRefunded():
            return contract.PaymentRefunded(**_amount_of(outcome), refund_id=outcome.refund_id, refunded_at=outcome.at)
        case facts.NothingToRefund():
            return contract.NothingToRefund(order_id=outcome.order_id, reason=outcome.reason)
        case _:
            assert_never(outcome)


class _Amount(TypedDict):
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str


def _amount_of(fact: facts.Fact) -> _Amount:
    return {
        "order_id": fact.order_id,
        "customer_id": fact.customer_id,
        "amount_minor": fact.amount.amount_minor,
        "currency": fact.amount.currency,
    }


def _caused_by(message: Message, asker: Asker) -> Envelope:
    """``message`` in an envelope that answers, or follows from, the command ``asker`` sent."""
    return Envelope(
        type=message.message_type,
        version=message.message_version,
        data=message.model_dump(mode="json"),
        correlation_id=asker.correlation_id,
        causation_id=asker.message_id,
        traceparent=asker.traceparent,
    )


class OutboxAnnouncer:
    """Writes events and replies to the outbox in ``session``'s transaction."""

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        self.session = session
        self.outbox = outbox

    async def publish(self, fact: facts.Fact, *, caused_by: Asker | None) -> None:
        """Write ``fact``'s event, as following from ``caused_by`` (a new conversation if None)."""
        event, subject = published(fact)
        envelope = event.envelope() if caused_by is None else _caused_by(event, caused_by)
        await self.outbox.put(self.session, envelope, subject=subject)

    async def answer(self, asker: Asker, outcome: facts.TakeOutcome | facts.RefundOutcome) -> None:
        """Write the reply to ``asker``'s command, if it asked for one."""
        if asker.reply_to is not None:
            await self.outbox.put(self.session, _caused_by(message_of(outcome), asker), subject=asker.reply_to)
