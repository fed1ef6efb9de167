from __future__ import annotations

import pytest

from customer.domain import (
    MAX_ADDRESSES,
    AddressAdded,
    AddressNotFoundError,
    ContactDetails,
    Customer,
    CustomerRegistered,
    PostalAddress,
    ProfileNotFoundError,
    ProfileRequiredError,
    TooManyAddressesError,
)
from customer.use_cases import Customers

from .fakes import FakeUnitOfWork, ManualClock, SequentialIds

ANN = ContactDetails(display_name="Ann Smith", email="ann@example.com")
HOME = PostalAddress(name="Ann Smith", lines=("10 Downing Street",), city="London", postcode="SW1A 2AA", country="GB")
WORK = PostalAddress(name="Ann Smith", lines=("1 Canada Square",), city="London", postcode="E14 5AB", country="GB")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def customers(uow: FakeUnitOfWork) -> Customers:
    return Customers(uow=uow, clock=ManualClock(), new_id=SequentialIds())


async def test_the_first_profile_registers_the_customer_once(customers: Customers, uow: FakeUnitOfWork) -> None:
    """The first save registers and announces CustomerRegistered; later saves update and announce nothing."""
    ann, registered = await customers.save_profile("acc_ann", ANN)
    assert registered
    renamed, registered_again = await customers.save_profile("acc_ann", ContactDetails("Ann Jones", ANN.email))
    assert not registered_again
    assert renamed.registered_at == ann.registered_at < renamed.updated_at
    assert [type(fact) for fact in uow.store.announced] == [CustomerRegistered]
    assert (await customers.profile("acc_ann")).contact.display_name == "Ann Jones"


async def test_a_registration_that_loses_a_race_is_an_update(customers: Customers, uow: FakeUnitOfWork) -> None:
    """If another request registers the customer first, this one updates them and announces nothing."""
    other = Customer.register("acc_ann", ContactDetails("Ann (other tab)", ANN.email), at=customers.clock())
    uow.store.customers.registered_meanwhile = other
    saved, registered = await customers.save_profile("acc_ann", ANN)
    assert not registered
    assert saved.contact == ANN and saved.registered_at == other.registered_at
    assert uow.store.announced == []


async def test_no_profile_before_registering(customers: Customers) -> None:
    """A customer who never saved a profile has none, and no addresses."""
    with pytest.raises(ProfileNotFoundError):
        await customers.profile("acc_ann")
    assert await customers.addresses("acc_ann") == []


async def test_addresses_need_a_registered_customer(customers: Customers, uow: FakeUnitOfWork) -> None:
    """Adding an address before the profile is refused, so AddressAdded never precedes CustomerRegistered."""
    with pytest.raises(ProfileRequiredError):
        await customers.add_address("acc_ann", HOME)
    assert uow.store.announced == []


async def test_an_added_address_is_kept_and_announced(customers: Customers, uow: FakeUnitOfWork) -> None:
    """The address is listed oldest first, readable by id, and announced once."""
    await customers.save_profile("acc_ann", ANN)
    home = await customers.add_address("acc_ann", HOME)
    work = await customers.add_address("acc_ann", WORK)
    assert await customers.addresses("acc_ann") == [home, work]
    assert await customers.address("acc_ann", work.id) == work
    added = [fact for fact in uow.store.announced if isinstance(fact, AddressAdded)]
    assert [fact.address_id for fact in added] == [home.id, work.id]


async def test_another_customers_address_is_not_found(customers: Customers) -> None:
    """Bob cannot read, change or remove Ann's address by its id, and Ann's address is unchanged."""
    await customers.save_profile("acc_ann", ANN)
    await customers.save_profile("acc_bob", ContactDetails("Bob", "bob@example.com"))
    home = await customers.add_address("acc_ann", HOME)
    with pytest.raises(AddressNotFoundError):
        await customers.address("acc_bob", home.id)
    with pytest.raises(AddressNotFoundError):
        await customers.change_address("acc_bob", home.id, WORK)
    with pytest.raises(AddressNotFoundError):
        await customers.remove_address("acc_bob", home.id)
    with pytest.raises(AddressNotFoundError):
        await customers.address("acc_nobody", home.id)
    assert await customers.address("acc_ann", home.id) == home


async def test_a_refused_address_leaves_nothing_behind(customers: Customers, uow: FakeUnitOfWork) -> None:
    """The address over the limit is neither stored nor announced."""
    await customers.save_profile("acc_ann", ANN)
    for _ in range(MAX_ADDRESSES):
        await customers.add_address("acc_ann", HOME)
    announced = len(uow.store.announced)
    with pytest.raises(TooManyAddressesError):
        await customers.add_address("acc_ann", WORK)
    assert len(await customers.addresses("acc_ann")) == MAX_ADDRESSES
    assert len(uow.store.announced) == announced


async def test_changing_and_removing_an_address(customers: Customers, uow: FakeUnitOfWork) -> None:
    """A change is kept under the same id (and not announced as new); a removed address is gone."""
    await customers.save_profile("acc_ann", ANN)
    home = await customers.add_address("acc_ann", HOME)
    announced = len(uow.store.announced)
    changed = await customers.change_address("acc_ann", home.id, WORK)
    assert (changed.id, changed.postal) == (home.id, WORK)
    assert await customers.address("acc_ann", home.id) == changed
    await customers.remove_address("acc_ann", home.id)
    assert await customers.addresses("acc_ann") == []
    assert len(uow.store.announced) == announced
