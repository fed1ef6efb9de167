"""What the BFF promises the storefront: its request and response models, shaped for the pages.

Input is checked here with the rules of the service it goes on to (so a malformed field is a 422 naming
it before anything is called); the services check again, and their refusals are passed through.
A part of a page that a service could not give now is ``{"status": "unavailable", "service", "reason"}``
in that part's place; the rest of the page is there.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, SecretStr, StringConstraints

from web_bff.domain import Availability, is_card_number

T = TypeVar("T")

# The other services' rules, copied from their contracts.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,31}$"
ORDER_ID_PATTERN = r"^ord-[0-9a-f]{32}$"
ADDRESS_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
ORDER_PAGE_PATTERN = r"^[A-Za-z0-9_-]{1,200}$"
MAX_LINES, MAX_QUANTITY = 50, 99

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Money(BaseModel):
    """An amount in integer minor units (pence, cents) of an ISO 4217 currency, never a float."""

    amount_minor: int = Field(examples=[1299])
    currency: str = Field(examples=["GBP"])


class Unavailable(BaseModel):
    """A part of the page a service could not give now; the page shows the rest."""

    status: Literal["unavailable"] = "unavailable"
    service: str = Field(examples=["loyalty"])
    reason: str = Field(examples=["loyalty did not answer within 0.8 s"])


class Available(BaseModel, Generic[T]):
    status: Literal["available"] = "available"
    data: T


# -- signing up and in -----------------------------------------------------------------------------


class Registration(_In):
    email: EmailStr = Field(max_length=320, examples=["ann@example.com"])
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]


class AccountCreated(BaseModel):
    id: str = Field(description="the `sub` of the account's access tokens")
    email: str
    created_at: datetime


class SignIn(_In):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Refresh(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Tokens(BaseModel):
    """identity's tokens: send ``access_token`` as the bearer; ``refresh_token`` gets new ones, once."""

    access_token: str
    token_type: str
    expires_in: int = Field(description="seconds until the access token expires")
    scope: str
    refresh_token: str | None


# -- browsing and the basket -----------------------------------------------------------------------


class ProductCard(BaseModel):
    sku: str
    title: str
    artist: str
    genre: str
    released: int
    price: Money
    availability: Availability = Field(description="`unknown` when the warehouse did not answer in time")
    units_left: int | None = Field(description="set when stock is low")


class BrowsePage(BaseModel):
    items: list[ProductCard]
    next_page: str | None = Field(description="pass as `page` for the next page; null on the last page")
    unavailable: list[Unavailable] = Field(description="what the page is shown without; empty when nothing")


class BasketLineIn(_In):
    sku: Sku = Field(examples=["ALB-00001"])
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY, examples=[1])


def _one_line_per_sku(lines: list[BasketLineIn]) -> list[BasketLineIn]:
    skus = [line.sku for line in lines]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise ValueError(f"each SKU goes on one line; repeated: {', '.join(repeated)}")
    return lines


BasketLines = Annotated[
    list[BasketLineIn], AfterValidator(_one_line_per_sku), Field(min_length=1, max_length=MAX_LINES)
]


class Basket(_In):
    """The basket the page keeps, sent to be priced."""

    lines: BasketLines


class PricedLine(BaseModel):
    sku: str
    title: str
    artist: str
    quantity: int
    unit_price: Money
    total: Money
    availability: Availability


class PricedBasket(BaseModel):
    lines: list[PricedLine]
    unknown_skus: list[str] = Field(description="SKUs the catalog no longer sells: take them out of the basket")
    total: Money | None = Field(description="of the priced lines; null when none could be priced")
    unavailable: list[Unavailable]


def _a_card_number(card: SecretStr) -> SecretStr:
    if not is_card_number(card.get_secret_value()):
        raise ValueError("not a card number: 12 to 19 digits whose last is the Luhn check digit")
    return card


class Checkout(_In):
    """Place the basket as an order; send an ``Idempotency-Key`` header, the same one with each retry."""

    lines: BasketLines
    delivery_address_id: Annotated[str, StringConstraints(pattern=ADDRESS_ID_PATTERN)] = Field(examples=["adr_1"])
    card_number: Annotated[SecretStr, AfterValidator(_a_card_number)] = Field(examples=["4242424242424242"])


# -- orders ----------------------------------------------------------------------------------------


class OrderLine(BaseModel):
    sku: str
    title: str
    artist: str
    quantity: int
    unit_price: Money
    total: Money


class Delivery(BaseModel):
    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str


class Step(BaseModel):
    status: str
    label: str
    reached: bool


class OrderDetails(BaseModel):
    id: str
    status: str
    status_label: str
    can_cancel: bool
    progress: list[Step] = Field(description="placed, stock reserved, paid, dispatched: each reached or not")
    lines: list[OrderLine]
    total: Money
    delivery: Delivery
    card_last4: str
    points_awarded: int | None
    placed_at: AwareDatetime
    updated_at: AwareDatetime


class OrderSummary(BaseModel):
    id: str
    status: str
    status_label: str
    placed_at: AwareDatetime
    total: Money
    item_count: int
    titles: list[str] = Field(description="the first few albums' titles")


class OrderList(BaseModel):
    items: list[OrderSummary]
    next_page: str | None


class HistoryItem(BaseModel):
    at: AwareDatetime
    status: str
    status_label: str
    event: str
    reason: str | None


class PaymentSummary(BaseModel):
    status: str = Field(examples=["taken"])
    amount: Money
    card_last4: str
    decline_code: str | None
    failure_reason: str | None
    updated_at: AwareDatetime


class OrderStatusPage(OrderDetails):
    """The order-status page: the order, what happened to it, and its payment."""

    history: list[HistoryItem] = Field(description="oldest first")
    payment: Available[PaymentSummary | None] | Unavailable = Field(
        discriminator="status", description="null data: no payment asked for yet"
    )


# -- the account page ------------------------------------------------------------------------------


class ContactDetails(_In):
    display_name: Name = Field(examples=["Ann Smith"])
    email: EmailStr = Field(max_length=320, examples=["ann@example.com"])


class Profile(BaseModel):
    display_name: str
    email: str
    registered_at: AwareDatetime


class PostalAddress(_In):
    name: Name
    lines: list[Name] = Field(min_length=1, max_length=4)
    city: Name
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166-1 alpha-2")


class Address(BaseModel):
    id: str
    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str


class PointsEntry(BaseModel):
    order_id: str
    kind: str = Field(examples=["award"])
    points: int
    recorded_at: AwareDatetime


class Points(BaseModel):
    balance: int
    recent: list[PointsEntry] = Field(description="the most recent first")


class AccountPage(BaseModel):
    """The account page: each part as it could be had, in parallel; a part's failure is that part's alone."""

    profile: Available[Profile | None] | Unavailable = Field(discriminator="status", description="null: none yet")
    addresses: Available[list[Address]] | Unavailable = Field(discriminator="status")
    points: Available[Points] | Unavailable = Field(discriminator="status")
    recent_orders: Available[list[OrderSummary]] | Unavailable = Field(discriminator="status")
