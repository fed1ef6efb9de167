from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from customer.countries import COUNTRIES
from customer.domain import (
    MAX_ADDRESSES,
    AddressAdded,
    AddressNotFoundError,
    ContactDetails,
    Customer,
    CustomerRegistered,
    InvalidDetailsError,
    PostalAddress,
    TooManyAddressesError,
)

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ANN = ContactDetails(display_name="Ann Smith", email="ann@example.com")
HOME = PostalAddress(name="Ann Smith", lines=("10 Downing Street",), city="London", postcode="SW1A 2AA", country="GB")


def test_the_country_list_is_iso_3166_alpha_2() -> None:
    """All 249 assigned codes are there; common mistakes such as UK (for GB) are not."""
    assert len(COUNTRIES) == 249
    assert {"GB", "DE", "US", "JP", "AX"} <= COUNTRIES
    assert not {"UK", "EU", "XK", "gb"} & COUNTRIES


def test_contact_details_are_kept_trimmed() -> None:
    """Surrounding blanks are not part of a name or an address."""
    assert ContactDetails(display_name="  Ann  ", email=" ann@example.com ") == ContactDetails("Ann", "ann@example.com")


@pytest.mark.parametrize(
    ("display_name", "email", "field"),
    [
        ("   ", "ann@example.com", "display_name"),
        ("x" * 101, "ann@example.com", "display_name"),
        ("Ann", "ann", "email"),
        ("Ann", "@example.com", "email"),
        ("Ann", "ann@localhost", "email"),
    ],
)
def test_unusable_contact_details_name_the_field(display_name: str, email: str, field: str) -> None:
    """A blank or overlong name, or an email that cannot be written to, is refused naming the field."""
    with pytest.raises(InvalidDetailsError) as refused:
        ContactDetails(display_name=display_name, email=email)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "UK"}, "country"),
        ({"country": "gb"}, "country"),
        ({"lines": ()}, "lines"),
        ({"lines": ("a", "b", "c", "d", "e")}, "lines"),
        ({"lines": ("Flat 2", "  ")}, "lines.1"),
        ({"postcode": "x" * 17}, "postcode"),
        ({"city": ""}, "city"),
        ({"name": "\t"}, "name"),
    ],
)
def test_an_address_that_cannot_be_delivered_to_names_the_field(change: dict[str, Any], field: str) -> None:
    """Unknown countries, no lines or too many, and blank parts are refused naming the field."""
    fields: dict[str, Any] = {
        "name": "Ann",
        "lines": ("1 High St",),
        "city": "Leeds",
        "postcode": "LS1 1AA",
        "country": "GB",
    }
    with pytest.raises(InvalidDetailsError) as refused:
        PostalAddress(**(fields | change))
    assert refused.value.field == field


def test_registering_records_the_fact() -> None:
    """A new customer comes with CustomerRegistered, naming them and their contact details."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    assert ann.facts == [CustomerRegistered("acc_ann", ANN, AT)]
    assert (ann.registered_at, ann.updated_at) == (AT, AT)


def test_a_customer_id_must_be_an_opaque_id() -> None:
    """Whatever the token says, a customer id with spaces or slashes is not stored."""
    with pytest.raises(InvalidDetailsError):
        Customer.register("ann/../bob", ANN, at=AT)


def test_updating_contact_details_to_the_same_changes_nothing() -> None:
    """The same details again leave updated_at alone; new ones move it."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    ann.update_contact(ContactDetails("Ann Smith", "ann@example.com"), at=LATER)
    assert ann.updated_at == AT
    ann.update_contact(ContactDetails("Ann Jones", "ann@example.com"), at=LATER)
    assert (ann.contact.display_name, ann.updated_at) == ("Ann Jones", LATER)


def test_adding_an_address_records_address_added() -> None:
    """The new address is kept and announced with its country, not its street."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    address = ann.add_address("adr_1", HOME, at=LATER)
    assert ann.addresses == [address]
    assert ann.facts[-1] == AddressAdded("acc_ann", "adr_1", "GB", LATER)


def test_a_customer_keeps_a_bounded_number_of_addresses() -> None:
    """One more than MAX_ADDRESSES is refused, and the addresses are as they were."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    for n in range(MAX_ADDRESSES):
        ann.add_address(f"adr_{n}", HOME, at=AT)
    with pytest.raises(TooManyAddressesError):
        ann.add_address("adr_x", HOME, at=AT)
    assert len(ann.addresses) == MAX_ADDRESSES


def test_changing_an_address_keeps_its_id_and_age() -> None:
    """A corrected address is the same address: same id and added_at, a new updated_at."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    ann.add_address("adr_1", HOME, at=AT)
    moved = PostalAddress(name="Ann Smith", lines=("1 Main St",), city="Dublin", postcode="D01", country="IE")
    changed = ann.change_address("adr_1", moved, at=LATER)
    assert (changed.id, changed.added_at, changed.updated_at, changed.postal) == ("adr_1", AT, LATER, moved)
    assert ann.addresses == [changed]


def test_an_unknown_address_id_is_not_found_for_every_action() -> None:
    """Reading, changing and removing an id the customer does not have are all AddressNotFoundError."""
    ann = Customer.register("acc_ann", ANN, at=AT)
    for act in (
        lambda: ann.address("adr_bob"),
        lambda: ann.change_address("adr_bob", HOME, at=AT),
        lambda: ann.remove_address("adr_bob"),
    ):
        with pytest.raises(AddressNotFoundError):
            act()
