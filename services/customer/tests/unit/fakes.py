"""In-memory stand-ins for the customer service's ports, shared by the unit tests."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import paved.testing

from customer.domain import Address, Customer, Fact


class FakeCustomerRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Customer] = {}
        # A customer another request registers between this one's read and its insert (a race).
        self.registered_meanwhile: Customer | None = None

    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        row = self.rows.get(customer_id)
        return copy.deepcopy(row) if row is not None else None

    async def add(self, customer: Customer) -> bool:
        if self.registered_meanwhile is not None:
            self.rows[self.registered_meanwhile.id], self.registered_meanwhile = self.registered_meanwhile, None
        if customer.id in self.rows:
            return False
        self.rows[customer.id] = replace(copy.deepcopy(customer), facts=[])
        return True

    async def save_contact(self, customer: Customer) -> None:
        stored = self.rows[customer.id]
        stored.contact, stored.updated_at = customer.contact, customer.updated_at

    async def add_address(self, customer_id: str, address: Address) -> None:
        self.rows[customer_id].addresses.append(address)

    async def save_address(self, customer_id: str, address: Address) -> None:
        kept = self.rows[customer_id].addresses
        kept[[a.id for a in kept].index(address.id)] = address

    async def remove_address(self, customer_id: str, address_id: str) -> None:
        kept = self.rows[customer_id].addresses
        kept[:] = [a for a in kept if a.id != address_id]


class FakeStore:
    def __init__(self) -> None:
        self.customers = FakeCustomerRepository()
        self.announced: list[Fact] = []

    async def announce(self, fact: Fact) -> None:
        self.announced.append(fact)


class FakeUnitOfWork(paved.testing.FakeUnitOfWork[FakeStore]):
    """Transactions over one FakeStore (paved's fake: a write that raises leaves the store as it was)."""

    def __init__(self) -> None:
        super().__init__(FakeStore())


class ManualClock:
    """A clock that moves only when told to, one second per reading by default."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class SequentialIds:
    def __init__(self) -> None:
        self.issued = 0

    def __call__(self) -> str:
        self.issued += 1
        return f"adr_{self.issued}"
