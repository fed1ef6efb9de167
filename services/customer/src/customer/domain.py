"""Customers, their contact details and delivery addresses: the customer service's rules, with no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from customer.countries import COUNTRIES

# A customer's id is the subject of their access token: opaque, and safe in a URL and a log line.
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 320  # RFC 5321: 64 for the local part, 255 for the domain, and the "@"
MAX_ADDRESS_LINES = 4
MAX_LINE_LENGTH = 100
MAX_POSTCODE_LENGTH = 16
# Enough for home, work and family; a bound that keeps the address list one small page, never paged.
MAX_ADDRESSES = 20


class CustomerError(Exception):
    """A rule of the customer service was broken."""


class ProfileNotFoundError(CustomerError):
    def __init__(self) -> None:
        super().__init__("this customer has no profile yet: create it with PUT /me/profile")


class ProfileRequiredError(CustomerError):
    def __init__(self) -> None:
        super().__init__("addresses belong to a registered customer: create the profile (PUT /me/profile) first")


class AddressNotFoundError(CustomerError):
    def __init__(self, address_id: str) -> None:
        # Said the same way whether the address does not exist or is someone else's: ids are not probed.
        super().__init__(f"this customer has no address with the id {address_id!r}")


class TooManyAddressesError(CustomerError):
    def __init__(self) -> None:
        super().__init__(f"a customer keeps at most {MAX_ADDRESSES} addresses: remove one first")


class InvalidDetailsError(CustomerError):
    """A profile or address field breaks a rule; ``field`` names it as the request does."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _text(field: str, value: str, *, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidDetailsError(field, "must not be blank")
    if len(value) > max_length:
        raise InvalidDetailsError(field, f"must be at most {max_length} characters")
    return value


@dataclass(frozen=True)
class ContactDetails:
    """What the shop calls a customer and where it writes to them."""

    display_name: str
    email: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", _text("display_name", self.display_name, max_length=MAX_NAME_LENGTH))
        email = _text("email", self.email, max_length=MAX_EMAIL_LENGTH)
        # The full syntax check is the contract's (email-validator); the rule here is what must hold anyway.
        local, at, domain = email.rpartition("@")
        if not (at and local and "." in domain):
            raise InvalidDetailsError("email", "must be an email address such as ann@example.com")
        object.__setattr__(self, "email", email)


@dataclass(frozen=True)
class PostalAddress:
    """Where a parcel goes: a recipient, one to four lines, a city, a postcode and a country."""

    name: str
    lines: tuple[str, ...]
    city: str
    postcode: str
    country: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text("name", self.name, max_length=MAX_NAME_LENGTH))
        if not 1 <= len(self.lines) <= MAX_ADDRESS_LINES:
            raise InvalidDetailsError("lines", f"an address has 1 to {MAX_ADDRESS_LINES} lines")
        lines = tuple(_text(f"lines.{n}", line, max_length=MAX_LINE_LENGTH) for n, line in enumerate(self.lines))
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "city", _text("city", self.city, max_length=MAX_NAME_LENGTH))
        object.__setattr__(self, "postcode", _text("postcode", self.postcode, max_length=MAX_POSTCODE_LENGTH))
        if self.country not in COUNTRIES:
            raise InvalidDetailsError("country", f"{self.country!r} is not an ISO 3166-1 alpha-2 code such as 'GB'")


@dataclass(frozen=True)
class Address:
    """One of a customer's delivery addresses."""

    id: str
    postal: PostalAddress
    added_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CustomerRegistered:
    """A customer created their profile: the shop knows what to call them and where to write."""

    customer_id: str
    contact: ContactDetails
    at: datetime


@dataclass(frozen=True)
class AddressAdded:
    """A customer added a delivery address."""

    customer_id: str
    address_id: str
    country: str
    at: datetime


Fact = CustomerRegistered | AddressAdded


@dataclass
class Customer:
    """A registered customer: their contact details and their delivery addresses, changed together."""

    id: str
    contact: ContactDetails
    registered_at: datetime
    updated_at: datetime
    addresses: list[Address] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, customer_id: str, contact: ContactDetails, *, at: datetime) -> Customer:
        """A new customer, with the fact that they registered."""
        if not CUSTOMER_ID.fullmatch(customer_id):
            raise InvalidDetailsError("customer_id", "is not a customer id")
        customer = cls(id=customer_id, contact=contact, registered_at=at, updated_at=at)
        customer.facts.append(CustomerRegistered(customer_id, contact, at))
        return customer

    def update_contact(self, contact: ContactDetails, *, at: datetime) -> None:
        """Call them and write to them differently from now on."""
        if contact != self.contact:
            self.contact, self.updated_at = contact, at

    def address(self, address_id: str) -> Address:
        """One of the customer's addresses; another customer's id is as unknown as a made-up one."""
        for address in self.addresses:
            if address.id == address_id:
                return address
        raise AddressNotFoundError(address_id)

    def add_address(self, address_id: str, postal: PostalAddress, *, at: datetime) -> Address:
        """Keep ``postal`` as a new delivery address, up to ``MAX_ADDRESSES``."""
        if len(self.addresses) >= MAX_ADDRESSES:
            raise TooManyAddressesError
        address = Address(id=address_id, postal=postal, added_at=at, updated_at=at)
        self.addresses.append(address)
        self.facts.append(AddressAdded(self.id, address_id, postal.country, at))
        return address

    def change_address(self, address_id: str, postal: PostalAddress, *, at: datetime) -> Address:
        """Correct an address; an order placed before keeps the copy it took."""
        old = self.address(address_id)
        if old.postal == postal:
            return old
        new = Address(id=old.id, postal=postal, added_at=old.added_at, updated_at=at)
        self.addresses[self.addresses.index(old)] = new
        return new

    def remove_address(self, address_id: str) -> None:
        """Forget an address (orders keep their own copy, so nothing else depends on it)."""
        self.addresses.remove(self.address(address_id))
