"""What the BFF reads of the other services' answers: copies of their contracts' shapes, never their code.

Tolerant readers: only the fields the pages use, extra fields ignored, and statuses read as strings,
so a compatible change over there (a new field, a new status) changes nothing here. Copied from each
service's ``contract.py``; the request bodies the BFF sends are built where they are sent.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Amount(_Read):
    """catalog's ``Price``, order's ``Money``: integer minor units of a currency."""

    amount_minor: int
    currency: str


# -- identity --------------------------------------------------------------------------------------


class IdentityAccount(_Read):
    """identity's ``AccountOut``."""

    id: str
    email: str
    created_at: datetime


class IdentityTokens(_Read):
    """identity's ``TokenResponse`` (RFC 6749, section 5.1)."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str = ""
    refresh_token: str | None = None


# -- catalog ---------------------------------------------------------------------------------------


class CatalogAlbum(_Read):
    """catalog's ``AlbumOut``."""

    sku: str
    title: str
    artist: str
    genre: str
    released: int
    price: Amount


class CatalogPage(_Read):
    """catalog's ``AlbumPage``."""

    items: list[CatalogAlbum]
    next_cursor: str | None = None


# -- warehouse -------------------------------------------------------------------------------------


class StockLevel(_Read):
    """warehouse's ``StockLevel``."""

    sku: str
    available: int


class StockLevels(_Read):
    """warehouse's ``StockLevels``."""

    items: list[StockLevel]


# -- customer --------------------------------------------------------------------------------------


class CustomerProfile(_Read):
    """customer's ``ProfileOut``."""

    customer_id: str
    display_name: str
    email: str
    registered_at: AwareDatetime


class CustomerAddress(_Read):
    """customer's ``AddressOut``."""

    id: str
    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str


class CustomerAddresses(_Read):
    """customer's ``AddressList``."""

    items: list[CustomerAddress]


# -- order -----------------------------------------------------------------------------------------


class OrderLine(_Read):
    """order's ``OrderLineOut``."""

    sku: str
    title: str
    artist: str
    quantity: int
    unit_price: Amount
    total: Amount


class OrderDelivery(_Read):
    """order's ``DeliveryAddressOut``."""

    address_id: str
    name: str
    lines: list[str]
    city: str
    postcode: str
    country: str


class OrderRecord(_Read):
    """order's ``OrderOut``."""

    id: str
    status: str
    lines: list[OrderLine]
    total: Amount
    delivery_address: OrderDelivery
    card_last4: str
    points_awarded: int | None = None
    placed_at: AwareDatetime
    updated_at: AwareDatetime


class OrderRecords(_Read):
    """order's ``OrderPage``."""

    items: list[OrderRecord]
    next_cursor: str | None = None


class OrderHistoryEntry(_Read):
    """order's ``HistoryEntryOut``."""

    at: AwareDatetime
    status: str
    event: str
    reason: str | None = None


class OrderHistory(_Read):
    """order's ``OrderHistory``."""

    order_id: str
    items: list[OrderHistoryEntry]


# -- loyalty ---------------------------------------------------------------------------------------


class LoyaltyEntry(_Read):
    """loyalty's ``EntryOut``."""

    order_id: str
    kind: str
    points: int
    balance_after: int
    recorded_at: AwareDatetime


class LoyaltyStatement(_Read):
    """loyalty's ``PointsStatement``."""

    customer_id: str
    balance: int
    entries: list[LoyaltyEntry]


# -- payment ---------------------------------------------------------------------------------------


class PaymentRecord(_Read):
    """payment's ``PaymentOut``."""

    order_id: str
    status: str
    amount_minor: int
    currency: str
    card_last4: str
    decline_code: str | None = None
    failure_reason: str | None = None
    updated_at: AwareDatetime
