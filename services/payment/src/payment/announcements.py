"""What the payment service says: each fact as its contract event, each outcome as the reply its asker waits for.

The store writes both to the outbox (paved's ``Announcer`` and ``Outbox.reply``) in the transaction that
records them, so they go out if and only if the change commits. A reply may be written long after its
command was handled (the processor answered later), so it is addressed from what was kept of the command:
its ``paved.Asker``.
"""

from __future__ import annotations

from typing import TypedDict, assert_never

from payment import contract, facts

# Every event payment publishes is also the reply to the commands waiting for it: the asker hears what all hear.
PaymentEvent = contract.PaymentTaken | contract.PaymentDeclined | contract.PaymentFailed | contract.PaymentRefunded


def event_of(fact: facts.Fact) -> PaymentEvent:
    """The contract's event that announces ``fact``."""
    match fact:
        case facts.PaymentTaken():
            return contract.PaymentTaken(
                **_amount_of(fact), charge_id=fact.charge_id, card_last4=fact.card_last4, taken_at=fact.at
            )
        case facts.PaymentDeclined():
            return contract.PaymentDeclined(**_amount_of(fact), decline_code=fact.decline_code, declined_at=fact.at)
        case facts.PaymentFailed():
            return contract.PaymentFailed(**_amount_of(fact), reason=fact.reason, failed_at=fact.at)
        case facts.PaymentRefunded():
            return contract.PaymentRefunded(**_amount_of(fact), refund_id=fact.refund_id, refunded_at=fact.at)
        case _:
            assert_never(fact)


def reply_of(outcome: facts.TakeOutcome | facts.RefundOutcome) -> PaymentEvent | contract.NothingToRefund:
    """The contract's reply that answers a command with ``outcome``: the fact's event, or NothingToRefund."""
    if isinstance(outcome, facts.NothingToRefund):
        return contract.NothingToRefund(order_id=outcome.order_id, reason=outcome.reason)
    return event_of(outcome)


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
