"""The customer service's own tables, and the repository that maps them onto its domain. Nobody else reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from paved import Database
from paved.messaging import Outbox, messaging_tables
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from customer.announcements import published
from customer.domain import Address, ContactDetails, Customer, Fact, PostalAddress


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps none, so it is put back on reading)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: whose time would it be?")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(100), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("city", String(100), nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_addresses_customer_id", "customer_id", "added_at"),
)

# paved's outbox and inbox live in the customer service's own database, beside its customers.
messaging = messaging_tables(metadata)

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
        listed = select(addresses).where(addresses.c.customer_id == customer_id).order_by(
            addresses.c.added_at, addresses.c.id
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

    def __init__(self, session: AsyncSession, outbox: Outbox, *, backend: str) -> None:
        self.session = session
        self.outbox = outbox
        self.customers = SqlCustomerRepository(session, backend=backend)

    async def announce(self, fact: Fact) -> None:
        event, subject = published(fact)
        await self.outbox.put(self.session, event.envelope(), subject=subject)


class DatabaseUnitOfWork:
    """Transactions on the customer service's database, for the use cases."""

    def __init__(self, database: Database, outbox: Outbox) -> None:
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
