"""What the customer service promises the storefront and other services: HTTP models and the events it publishes.

Endpoints under ``/me`` act for the customer the access token was issued to (scope ``customer``), and for
no one else. A service that acts for a customer sends on that customer's token: the order service reads
the delivery address it copies into an order with the token the order is placed with. No service's own
token reads a customer's data (docs/zero-trust.md, the confused deputy).

Events go to the stream it owns, CUSTOMER_EVENTS, each on its own subject
(``customer.events.customer-registered``). They carry as little personal data as their consumers need:
CustomerRegistered has the contact email (the notification service, which consumes events only, writes
to it); AddressAdded names the address and its country, and whoever needs the rest of it asks, so that
what the shop knows of a customer's whereabouts stays here.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Event, Stream
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from customer.countries import COUNTRIES
from customer.domain import (
    MAX_ADDRESS_LINES,
    MAX_EMAIL_LENGTH,
    MAX_LINE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_POSTCODE_LENGTH,
)

CUSTOMER_SCOPE = "customer"
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
ADDRESS_ID_PATTERN = r"^adr_[A-Za-z0-9_-]{1,60}$"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINE_LENGTH)]


def _assigned_country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"{code!r} is not an assigned ISO 3166-1 alpha-2 code (e.g. 'GB', not 'UK')")
    return code


Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_assigned_country)]


class ContactDetails(BaseModel):
    """What the shop calls the customer, and the address it writes to them at."""

    model_config = ConfigDict(extra="forbid")

    display_name: Name = Field(examples=["Ann Smith"])
    email: EmailStr = Field(max_length=MAX_EMAIL_LENGTH, examples=["ann@example.com"])


class ProfileOut(ContactDetails):
    customer_id: str = Field(description="the `sub` of the customer's access tokens")
    registered_at: AwareDatetime
    updated_at: AwareDatetime


class PostalAddress(BaseModel):
    """A delivery address."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="who receives the parcel", examples=["Ann Smith"])
    lines: list[Line] = Field(min_length=1, max_length=MAX_ADDRESS_LINES, examples=[["Flat 2", "10 Downing Street"]])
    city: Name = Field(examples=["London"])
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_POSTCODE_LENGTH)] = (
        Field(examples=["SW1A 2AA"])
    )
    country: Country = Field(description="ISO 3166-1 alpha-2", examples=["GB"])


class AddressOut(PostalAddress):
    id: str
    added_at: AwareDatetime
    updated_at: AwareDatetime


class AddressList(BaseModel):
    items: list[AddressOut] = Field(description="oldest first; at most 20")


# -- events ---------------------------------------------------------------------------------------

EVENTS = Stream("CUSTOMER_EVENTS", subjects=["customer.events.>"])


class CustomerRegistered(Event, type="customer.CustomerRegistered", version=1):
    """A customer created their profile: from now on the shop knows what to call them and where to write."""

    customer_id: str
    display_name: str
    email: str
    registered_at: AwareDatetime


class AddressAdded(Event, type="customer.AddressAdded", version=1):
    """A customer added a delivery address; the rest of it is read with that customer's own token."""

    customer_id: str
    address_id: str
    country: str
    added_at: AwareDatetime
