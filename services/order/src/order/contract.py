"""What order promises the storefront and other services: its HTTP models and the events it publishes.

Events go to order's stream ORDER_EVENTS (``EVENTS``), on ``order.events.<kebab-name>``: OrderPlaced,
FulfilmentRequested (choreographed orders), OrderDispatched, OrderRejected (with a reason code) and
OrderCancelled, each with the customer, the order and its total.
The commands order sends and the replies it takes belong to the warehouse's, payment's and loyalty's
contracts; order's copies of them are in ``order.partners``.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from paved.messaging import Event, Stream
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from order.domain import MAX_LINES, MAX_QUANTITY, passes_luhn

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,31}$"
# Opaque ids of other services, kept to what is safe in a URL path segment.
ADDRESS_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
ORDER_ID_PATTERN = r"^ord-[0-9a-f]{32}$"
# RFC 8941 sf-string content, as draft-ietf-httpapi-idempotency-key-header has it; a UUID fits.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
OrderStatus = Literal["placed", "stock_reserved", "paid", "dispatched", "rejected", "cancelled"]


def _a_card_number(card: SecretStr) -> SecretStr:
    if not passes_luhn(card.get_secret_value()):
        raise ValueError("not a card number: 12 to 19 digits whose last is the Luhn check digit")
    return card


class Money(BaseModel):
    """An amount in integer minor units (pence, cents) of an ISO 4217 currency, never a float."""

    amount_minor: int = Field(examples=[2598])
    currency: str = Field(examples=["GBP"])


# -- placing an order -----------------------------------------------------------------------------


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku = Field(examples=["ALB-00001"])
    # Strict: "2" or 2.0 or true are not a number of albums.
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY, examples=[1])


def _one_line_per_sku(lines: list[LineIn]) -> list[LineIn]:
    skus = [line.sku for line in lines]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise ValueError(f"each SKU goes on one line; repeated: {', '.join(repeated)}")
    return lines


class PaymentDetails(BaseModel):
    """The card to charge. Passed on to payment and never stored readable (see docs/order.md)."""

    model_config = ConfigDict(extra="forbid")

    card_number: Annotated[SecretStr, AfterValidator(_a_card_number)] = Field(
        min_length=12, max_length=19, examples=["4242424242424242"]
    )


class PlaceOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[LineIn], AfterValidator(_one_line_per_sku)] = Field(min_length=1, max_length=MAX_LINES)
    delivery_address_id: Annotated[str, StringConstraints(pattern=ADDRESS_ID_PATTERN)] = Field(
        description="one of the customer's addresses at the customer service", examples=["adr_1"]
    )
    payment: PaymentDetails
    fulfilment: Literal["orchestrated", "choreographed"] | None = Field(
        default=None,
        description=(
            "how the order's fulfilment runs: driven by order's saga, or by the partners reacting to each "
            "other's events; the service's setting when left out (for tests and benchmarks)"
        ),
    )


# -- reading orders -------------------------------------------------------------------------------


class OrderLineOut(BaseModel):
    sku: str
    title: str
    artist: str
    quantity: int
    unit_price: Money = Field(description="the catalog's price when the order was placed")
    total: Money


class DeliveryAddressOut(BaseModel):
    address_id: str
    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str


class OrderOut(BaseModel):
    id: str
    customer_id: str
    status: OrderStatus
    lines: list[OrderLineOut]
    total: Money
    delivery_address: DeliveryAddressOut = Field(description="as it was when the order was placed")
    card_last4: str = Field(description="the last four digits of the card it is paid with")
    fulfilment: Literal["orchestrated", "choreographed"]
    points_awarded: int | None = Field(description="loyalty points the order earned, once loyalty has said")
    placed_at: AwareDatetime
    updated_at: AwareDatetime


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(description="pass as `after` for the next page; null on the last page")


class HistoryEntryOut(BaseModel):
    at: AwareDatetime
    status: OrderStatus = Field(description="the order's status after it")
    event: str = Field(examples=["stock_reserved"])
    reason: str | None


class OrderHistory(BaseModel):
    order_id: str
    items: list[HistoryEntryOut] = Field(description="oldest first")


# -- events ---------------------------------------------------------------------------------------

# order's stream: each event goes on ``order.events.<kebab-name>``, derived from its type
# (``order.OrderPlaced`` on ``order.events.order-placed``; tests/unit/test_contract.py pins every one).
EVENTS = Stream("ORDER_EVENTS", subjects=["order.events.>"])

# "stock_lapsed" is no longer given (a lapsed hold after payment is retried forward, then a person
# decides), but stays: consumers may still read events that carry it.
RejectionReason = Literal[
    "out_of_stock", "payment_declined", "payment_failed", "warehouse_unavailable", "payment_unavailable", "stock_lapsed"
]


class PlacedLine(BaseModel):
    sku: str
    title: str
    quantity: int
    unit_price: Money


class OrderPlaced(Event, type="order.OrderPlaced", version=1):
    """A customer placed an order; its fulfilment has started."""

    order_id: str
    customer_id: str
    lines: list[PlacedLine]
    total: Money
    placed_at: AwareDatetime


class RequestedLine(BaseModel):
    sku: str
    quantity: int


class FulfilmentRequested(Event, type="order.FulfilmentRequested", version=1):
    """A choreographed order asks to be fulfilled: the warehouse reserves, payment and loyalty take note.

    Published only for orders whose fulfilment is choreographed (docs/sagas.md); an orchestrated order's
    partners are sent commands instead.
    """

    order_id: str
    customer_id: str
    lines: list[RequestedLine]
    total: Money
    requested_at: AwareDatetime


class OrderDispatched(Event, type="order.OrderDispatched", version=1):
    """The order's parcel left the warehouse for the customer."""

    order_id: str
    customer_id: str
    total: Money
    dispatched_at: AwareDatetime


class OrderRejected(Event, type="order.OrderRejected", version=1):
    """The order will not be fulfilled; whatever was reserved or charged for it is being given back."""

    order_id: str
    customer_id: str
    total: Money
    reason: RejectionReason
    detail: str = Field(description="for people: what happened")
    rejected_at: AwareDatetime


class OrderCancelled(Event, type="order.OrderCancelled", version=1):
    """The customer cancelled the order before paying; its stock is being released."""

    order_id: str
    customer_id: str
    total: Money
    reason: str
    cancelled_at: AwareDatetime
