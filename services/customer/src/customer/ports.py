"""What the customer service's use cases need from outside, as small Protocols.

``store.py`` implements them over the database and the outbox; the unit tests, in memory
(``tests/unit/fakes.py``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from customer.domain import Address, Customer, Fact


class CustomerRepository(Protocol):
    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        """The customer with their addresses; ``for_update`` holds them until the transaction ends."""
        ...

    async def add(self, customer: Customer) -> bool:
        """Store a new customer; False (and nothing stored) if one with that id was added meanwhile."""
        ...

    async def save_contact(self, customer: Customer) -> None: ...

    async def add_address(self, customer_id: str, address: Address) -> None: ...

    async def save_address(self, customer_id: str, address: Address) -> None: ...

    async def remove_address(self, customer_id: str, address_id: str) -> None: ...


class Store(Protocol):
    """The customer service's tables and outbox within one transaction."""

    @property
    def customers(self) -> CustomerRepository: ...

    async def announce(self, fact: Fact) -> None:
        """Publish ``fact`` if and only if this transaction commits."""
        ...


class UnitOfWork(Protocol):
    def read(self) -> AbstractAsyncContextManager[Store]: ...

    def write(self) -> AbstractAsyncContextManager[Store]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...
