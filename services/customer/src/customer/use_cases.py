"""The customer service's use cases: each one transaction, with its facts announced in it."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from paved import Clock, utc_now

from customer.domain import (
    Address,
    AddressNotFoundError,
    ContactDetails,
    Customer,
    PostalAddress,
    ProfileNotFoundError,
    ProfileRequiredError,
)
from customer.ports import Store, UnitOfWork


def new_address_id() -> str:
    """An opaque, unguessable address id: knowing one's own ids tells nothing about anyone else's."""
    return f"adr_{secrets.token_urlsafe(12)}"


class Customers:
    """Profiles and addresses, each read or changed for the one customer it belongs to."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock = utc_now, new_id: Callable[[], str] = new_address_id) -> None:
        self.uow = uow
        self.clock = clock
        self.new_id = new_id

    async def profile(self, customer_id: str) -> Customer:
        """The registered customer; raises ``ProfileNotFoundError``."""
        async with self.uow.read() as store:
            customer = await store.customers.get(customer_id)
        if customer is None:
            raise ProfileNotFoundError
        return customer

    async def save_profile(self, customer_id: str, contact: ContactDetails) -> tuple[Customer, bool]:
        """Register the customer, or update their contact details; whether this call registered them."""
        async with self.uow.write() as store:
            customer = await store.customers.get(customer_id, for_update=True)
            if customer is None:
                new = Customer.register(customer_id, contact, at=self.clock())
                if await store.customers.add(new):
                    await _announce(store, new)
                    return new, True
                # Registered by a concurrent request since the read: this one is an update, and
                # CustomerRegistered goes out once, with the request that won.
                customer = await store.customers.get(customer_id, for_update=True)
                assert customer is not None, "a customer added in a committed transaction is found"
            customer.update_contact(contact, at=self.clock())
            await store.customers.save_contact(customer)
            return customer, False

    async def addresses(self, customer_id: str) -> list[Address]:
        """The customer's addresses, oldest first; none before they register."""
        async with self.uow.read() as store:
            customer = await store.customers.get(customer_id)
        return customer.addresses if customer is not None else []

    async def address(self, customer_id: str, address_id: str) -> Address:
        """One of the customer's addresses; raises ``AddressNotFoundError`` for any other id."""
        async with self.uow.read() as store:
            customer = await store.customers.get(customer_id)
        if customer is None:
            raise AddressNotFoundError(address_id)
        return customer.address(address_id)

    async def add_address(self, customer_id: str, postal: PostalAddress) -> Address:
        """Keep a new delivery address for a registered customer."""
        async with self.uow.write() as store:
            # Held to the end: of two concurrent adds, the second counts the first's (the limit holds).
            customer = await store.customers.get(customer_id, for_update=True)
            if customer is None:
                raise ProfileRequiredError
            address = customer.add_address(self.new_id(), postal, at=self.clock())
            await store.customers.add_address(customer_id, address)
            await _announce(store, customer)
            return address

    async def change_address(self, customer_id: str, address_id: str, postal: PostalAddress) -> Address:
        """Correct one of the customer's addresses."""
        async with self.uow.write() as store:
            customer = await _locked(store, customer_id, address_id)
            address = customer.change_address(address_id, postal, at=self.clock())
            await store.customers.save_address(customer_id, address)
            return address

    async def remove_address(self, customer_id: str, address_id: str) -> None:
        """Forget one of the customer's addresses."""
        async with self.uow.write() as store:
            customer = await _locked(store, customer_id, address_id)
            customer.remove_address(address_id)
            await store.customers.remove_address(customer_id, address_id)


async def _locked(store: Store, customer_id: str, address_id: str) -> Customer:
    """The customer, held until the transaction ends; with no customer, there is no such address either."""
    customer = await store.customers.get(customer_id, for_update=True)
    if customer is None:
        raise AddressNotFoundError(address_id)
    return customer


async def _announce(store: Store, customer: Customer) -> None:
    for fact in customer.facts:
        await store.announce(fact)
    customer.facts.clear()
