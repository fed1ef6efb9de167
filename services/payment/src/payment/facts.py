"""What happened to payments (published as events) and the answers given to those who asked for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from payment.money import Money


@dataclass(frozen=True)
class PaymentTaken:
    """The order's amount was charged to the card."""

    order_id: str
    customer_id: str
    amount: Money
    charge_id: str
    card_last4: str
    at: datetime


@dataclass(frozen=True)
class PaymentDeclined:
    """The card was declined: nothing was taken."""

    order_id: str
    customer_id: str
    amount: Money
    decline_code: str
    at: datetime


@dataclass(frozen=True)
class PaymentFailed:
    """No charge could be made or confirmed; any that went through unseen is given back later."""

    order_id: str
    customer_id: str
    amount: Money
    reason: str
    at: datetime


@dataclass(frozen=True)
class PaymentRefunded:
    """The order's money went back to the card."""

    order_id: str
    customer_id: str
    amount: Money
    refund_id: str
    at: datetime


@dataclass(frozen=True)
class NothingToRefund:
    """The answer to a refund of a payment that took nothing (declined, failed, cancelled): an answer, not a fact."""

    order_id: str
    reason: str
    at: datetime


Fact = PaymentTaken | PaymentDeclined | PaymentFailed | PaymentRefunded
TakeOutcome = PaymentTaken | PaymentDeclined | PaymentFailed
RefundOutcome = PaymentRefunded | NothingToRefund
