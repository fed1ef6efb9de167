"""What the payment service promises other services: the commands it takes, what it answers and announces,
and its HTTP models.

Commands go to the stream PAYMENT_COMMANDS, on ``payment.commands.<kind>``; events come out on
PAYMENT_EVENTS, on ``payment.events.<kind>``. Each order has one payment:

- ``TakePayment`` is answered ``PaymentTaken``, ``PaymentDeclined`` or ``PaymentFailed`` once the card
  processor has answered (or has not, within the attempts allowed: reason ``provider unavailable``).
  Asked again for the same order, it is answered with the same outcome, and nothing is charged again.
- ``RefundPayment`` is answered ``PaymentRefunded`` once the money is back, or ``NothingToRefund`` if the
  payment took nothing (declined, failed, or not asked yet: then it is cancelled and never taken).
  Either means the compensation is done.
- ``KeepCard`` (choreographed orders, no reply) keeps the card, sealed, until the warehouse announces the
  order's stock reserved (``warehouse.StockReserved``): the payment is then taken as ``TakePayment`` takes
  it. If the order is cancelled or rejected first (``order.OrderCancelled``, ``order.OrderRejected``), the
  card is forgotten; if after, the payment is refunded.

The same facts are published as events, once, when they happen. A ``PaymentFailed`` for which a charge
later turns out to have gone through is followed by a ``PaymentRefunded``: the money goes back by itself.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Command, Event, Reply, Stream
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
OrderId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# Opaque, but text: no control characters (NUL above all, which PostgreSQL refuses in text).
CustomerId = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,64}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# Strict: "3" or 3.0 or true are not an amount.
AmountMinor = Annotated[int, Field(strict=True, gt=0, le=100_000_000)]

# -- messages -------------------------------------------------------------------------------------

# Commands carry card numbers: the stream keeps them a day, not for ever.
COMMANDS = Stream("PAYMENT_COMMANDS", subjects=["payment.commands.>"], max_age_seconds=24 * 3600)
EVENTS = Stream("PAYMENT_EVENTS", subjects=["payment.events.>"])


class _CardCommand(Command):
    """The fields of a command that brings an order's card and amount (TakePayment, KeepCard)."""

    # A command that does not parse is parked with the reason: the reason must not quote the card number.
    model_config = ConfigDict(hide_input_in_errors=True)

    order_id: OrderId
    customer_id: CustomerId
    amount_minor: AmountMinor
    currency: Currency
    card_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{12,19}$")] = Field(repr=False)


class TakePayment(_CardCommand, type="payment.TakePayment", version=1):  # payment.commands.take-payment
    """Charge the order's amount to the card; asking again for the same order charges nothing more."""


class KeepCard(_CardCommand, type="payment.KeepCard", version=1):  # payment.commands.keep-card
    """Keep the card to charge the order's amount to once its stock is reserved (a choreographed order).

    Asks no reply: what becomes of the payment is published as events (``PaymentTaken``, ...). Sent again
    for the same order, it keeps nothing more.
    """


class RefundPayment(Command, type="payment.RefundPayment", version=1):  # payment.commands.refund-payment
    """Give the order's money back (a saga's compensation); asking again gives nothing more back."""

    order_id: OrderId


class PaymentTaken(Event, Reply, type="payment.PaymentTaken", version=1):  # payment.events.payment-taken
    """The order's amount was charged to the card."""

    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    charge_id: str = Field(description="the card processor's id of the charge")
    card_last4: str
    taken_at: AwareDatetime


class PaymentDeclined(Event, Reply, type="payment.PaymentDeclined", version=1):  # payment.events.payment-declined
    """The card was declined: nothing was taken. ``invalid_number`` if it is not a card number at all."""

    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    decline_code: str
    declined_at: AwareDatetime


class PaymentFailed(Event, Reply, type="payment.PaymentFailed", version=1):  # payment.events.payment-failed
    """No charge could be made or confirmed (e.g. ``provider unavailable``): nothing is kept of the card."""

    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    reason: str
    failed_at: AwareDatetime


class PaymentRefunded(Event, Reply, type="payment.PaymentRefunded", version=1):  # payment.events.payment-refunded
    """The order's money went back to the card."""

    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    refund_id: str
    refunded_at: AwareDatetime


class NothingToRefund(Reply, type="payment.NothingToRefund", version=1):  # a reply only: no subject of its own
    """The answer to a refund of a payment that took nothing; the compensation is done."""

    order_id: str
    reason: str


# -- HTTP -----------------------------------------------------------------------------------------


class HistoryEntryOut(BaseModel):
    at: AwareDatetime
    status: str
    note: str


class PaymentOut(BaseModel):
    """An order's payment and every change it went through (``status``: charging, taken, declined, failed,
    refunding, refunded or cancelled)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    customer_id: str
    status: str
    amount_minor: int
    currency: str
    card_last4: str
    charge_id: str | None
    decline_code: str | None
    failure_reason: str | None
    refund_id: str | None
    requested_at: AwareDatetime
    updated_at: AwareDatetime
    history: list[HistoryEntryOut]
