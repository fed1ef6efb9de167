"""order's copies of the messages it exchanges with the warehouse, payment and loyalty, and the streams
of theirs it follows.

They belong to those services' contracts (``services/<name>/src/<name>/contract.py``): the type names,
versions and fields of the commands are theirs, copied here, never imported; each message's subject is
derived from its type as the owner's is (``warehouse.commands.reserve-stock``,
``warehouse.events.stock-reserved``; ``tests/unit/test_contract.py`` pins them). A command order sends
has every field its owner requires. A reply is read tolerantly: only the fields order uses are declared
and the rest are ignored, so that a compatible change of the owner's (a new field) does not make order
park its replies. The same models read the partners' events that a choreographed order follows
(``order.choreography``): an event and the reply of the same name are the same message.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Command, Event, Reply
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# -- shared shapes --------------------------------------------------------------------------------


class Money(BaseModel):
    """Integer minor units of an ISO 4217 currency, as loyalty takes an amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount_minor: int = Field(strict=True, ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Answer(Reply):
    """A partner's reply as order reads it (tolerant reader: unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str


class Told(Event, Answer):
    """A partner's answer that it also publishes as an event on its own stream (choreographed orders read those)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# The partners' event streams, declared by their owners; order follows them (``order.choreography``).
WAREHOUSE_EVENTS = "WAREHOUSE_EVENTS"
PAYMENT_EVENTS = "PAYMENT_EVENTS"
LOYALTY_EVENTS = "LOYALTY_EVENTS"


# -- warehouse (services/warehouse/src/warehouse/contract.py) -------------------------------------


class StockLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    quantity: int = Field(strict=True, gt=0)


class ReserveStock(Command, type="warehouse.ReserveStock", version=1):
    """Hold all the order's lines or none (for ``ttl_seconds``, the warehouse's default when left out)."""

    order_id: str
    lines: tuple[StockLine, ...]


class ReleaseStock(Command, type="warehouse.ReleaseStock", version=1):
    order_id: str


class DispatchOrder(Command, type="warehouse.DispatchOrder", version=1):
    order_id: str


class StockReserved(Told, type="warehouse.StockReserved", version=1):
    pass


class StockReleased(Told, type="warehouse.StockReleased", version=1):
    reason: str = Field(description="released | expired")


class OrderDispatched(Told, type="warehouse.OrderDispatched", version=1):
    pass


class Shortage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str
    requested: int
    available: int


class OutOfStock(Answer, type="warehouse.OutOfStock", version=1):
    shortages: tuple[Shortage, ...]


class ReservationNotFound(Answer, type="warehouse.ReservationNotFound", version=1):
    pass


class ReservationRefused(Told, type="warehouse.ReservationRefused", version=1):
    """An event (choreographed orders): the warehouse could not hold every line."""

    shortages: tuple[Shortage, ...]


# -- payment (services/payment/src/payment/contract.py) -------------------------------------------


class TakePayment(Command, type="payment.TakePayment", version=1):
    """Charge the order's amount to the card; payment charges an order once however often it is asked."""

    order_id: str
    customer_id: str
    amount_minor: int = Field(strict=True, gt=0)
    currency: str
    card_number: str = Field(repr=False)


class KeepCard(Command, type="payment.KeepCard", version=1):
    """Keep the card to charge the order's amount to once its stock is reserved (choreographed orders)."""

    order_id: str
    customer_id: str
    amount_minor: int = Field(strict=True, gt=0)
    currency: str
    card_number: str = Field(repr=False)


class RefundPayment(Command, type="payment.RefundPayment", version=1):
    """Give the order's money back; a payment not taken yet is cancelled and never taken."""

    order_id: str


class PaymentTaken(Told, type="payment.PaymentTaken", version=1):
    pass


class PaymentDeclined(Told, type="payment.PaymentDeclined", version=1):
    decline_code: str


class PaymentFailed(Told, type="payment.PaymentFailed", version=1):
    reason: str


class PaymentRefunded(Told, type="payment.PaymentRefunded", version=1):
    pass


class NothingToRefund(Answer, type="payment.NothingToRefund", version=1):
    """The payment took nothing (declined, failed, or cancelled before it was taken): nothing to give back."""

    reason: str


# -- loyalty (services/loyalty/src/loyalty/contract.py) -------------------------------------------


class AwardPoints(Command, type="loyalty.AwardPoints", version=1):
    """Award the customer points for the order: one per 100 minor units of ``amount``."""

    order_id: str
    customer_id: str
    amount: Money


class RevokePoints(Command, type="loyalty.RevokePoints", version=1):
    """Take back the order's points; an award for it arriving later earns nothing."""

    order_id: str
    customer_id: str


class PointsAwarded(Told, type="loyalty.PointsAwarded", version=1):
    points: int


class PointsRevoked(Told, type="loyalty.PointsRevoked", version=1):
    pass


# Every command order sends (the fulfilment saga's, and a choreographed order's card): its outbox takes no
# other, and on a locked broker order's user may publish these and no other commands.
COMMANDS_SENT = (
    ReserveStock,
    ReleaseStock,
    DispatchOrder,
    TakePayment,
    KeepCard,
    RefundPayment,
    AwardPoints,
    RevokePoints,
)
