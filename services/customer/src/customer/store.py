"""The customer service's repository and unit of work over its tables (``tables.py``): the only code that knows them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from paved import Database
from paved.messaging import Announcer, MessageWriter
from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from customer.announcements import event_of
from customer.domain import Address, ContactDetails, Customer, PostalAddress
from customer.tables import addresses, customers

# Both dialects can skip a row whose key is taken (INSERT … ON CONFLICT DO NOTHING), each its own way.
_INSERT_IGNORING_DUPLICATES: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def _address(row: RowMapping) -> Address:
    postal = PostalAddress(
        name=row["name"], lines=tuple(row["lines"]), city=row["city"], postcode=row["postcode"], country=row["country"]
    )
    return Address(id=row["id"], postal=postal, added_at=row["added_at"], updated_at=row["updated_at"])


def _address_row(address: Address) -> dict[str, object]:
    postal = address.postal
    return {
        "name": postal.name,
        "lines": list(postal.lines),
        "city": postal.city,
        "postcode": postal.postcode,
        "country": postal.country,
        "added_at": address.added_at,
        "updated_at": address.updated_at,
    }


class SqlCustomerRepository:
    """Customers and their addresses, within the caller's transaction."""

    def __init__(self, session: AsyncSession, *, backend: str) -> None:
        self.session = session
        self._insert_new = _INSERT_IGNORING_DUPLICATES[backend]

    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        query = select(customers).where(customers.c.id == customer_id)
        if for_update:
            # PostgreSQL holds the row; SQLite needs nothing, its write transactions take turns whole.
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        listed = (
            select(addresses)
            .where(addresses.c.customer_id == customer_id)
            .order_by(addresses.c.added_at, addresses.c.id)
        )
        return Customer(
            id=row["id"],
            contact=ContactDetails(display_name=row["display_name"], email=row["email"]),
            registered_at=row["registered_at"],
            updated_at=row["updated_at"],
            addresses=[_address(a) for a in (await self.session.execute(listed)).mappings()],
        )

    async def add(self, customer: Customer) -> bool:
        statement = (
            self._insert_new(customers)
            .values(
                id=customer.id,
                display_name=customer.contact.display_name,
                email=customer.contact.email,
                registered_at=customer.registered_at,
                updated_at=customer.updated_at,
            )
            # No exception, so no savepoint: the losing request of a race just learns that it lost.
            .on_conflict_do_nothing()
            .returning(customers.c.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def save_contact(self, customer: Customer) -> None:
        await self.session.execute(
            update(customers)
            .where(customers.c.id == customer.id)
            .values(
                display_name=customer.contact.display_name,
                email=customer.contact.email,
                updated_at=customer.updated_at,
            )
        )

    async def add_address(self, customer_id: str, address: Address) -> None:
        await self.session.execute(
            addresses.insert().values(id=address.id, customer_id=customer_id, **_address_row(address))
        )

    async def save_address(self, customer_id: str, address: Address) -> None:
        await self.session.execute(
            update(addresses)
            .where(addresses.c.id == address.id, addresses.c.customer_id == customer_id)
            .values(_address_row(address))
        )

    async def remove_address(self, customer_id: str, address_id: str) -> None:
        await self.session.execute(
            delete(addresses).where(addresses.c.id == address_id, addresses.c.customer_id == customer_id)
        )


class SqlStore:
    """The customer service's repository and outbox over one session."""

    def __init__(self, session: AsyncSession, outbox: MessageWriter, *, backend: str) -> None:
        self.customers = SqlCustomerRepository(session, backend=backend)
        self.announce = Announcer(session, outbox, event_of=event_of)


class DatabaseUnitOfWork:
    """Reads and transactions on the customer service's database, for its use cases."""

    def __init__(self, database: Database, outbox: MessageWriter) -> None:
        self.database = database
        self.outbox = outbox
        self.backend = database.url.get_backend_name()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlStore]:
        async with self.database.read() as session:
            yield SqlStore(session, self.outbox, backend=self.backend)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlStore]:
        async with self.database.transaction() as session:
            yield SqlStore(session, self.outbox, backend=self.backend)
