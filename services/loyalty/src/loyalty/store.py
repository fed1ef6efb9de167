"""The repositories over the loyalty service's partitioned tables (``tables.py``), and the ledger over its
database. Every statement names one partition: the customer's (``partition_of(customer_id)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paved import Database, utc_now
from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from loyalty.domain import (
    ChoreographedOrder,
    Entry,
    EntryKind,
    Money,
    OrderEntries,
    PaymentOutcome,
    PointsAccount,
    Statement,
)
from loyalty.partitioning import PartitionCountChangedError, partition_of
from loyalty.tables import choreographed_orders, early_payments, ledger_layout, points_accounts, points_entries

# Built once: building a statement per call cost about a quarter of the service's CPU under load
# (bench/README.md, issue 5). What varies is bound at execution; a WHERE's values under names that are not
# column names (an UPDATE would take a column's name among them for a value to SET).
_DIALECT_INSERTS: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}
_INSERTS_IGNORING_DUPLICATES: dict[str, dict[Table, sqlite.Insert | postgresql.Insert]] = {
    dialect: {
        table: dialect_insert(table).on_conflict_do_nothing()
        for table in (ledger_layout, points_accounts, choreographed_orders, early_payments)
    }
    for dialect, dialect_insert in _DIALECT_INSERTS.items()
}


def _in_partition(table: Table) -> ColumnElement[bool]:
    """The rows of one customer (bound as ``customer``), in its partition (bound as ``partition``)."""
    return and_(table.c.partition_no == bindparam("partition"), table.c.customer_id == bindparam("customer"))


def _bound(layout: Layout, customer_id: str, **more: Any) -> dict[str, Any]:
    """The values a statement binds: ``_in_partition``'s for ``customer_id``, and ``more``."""
    return {"partition": layout.partition_of(customer_id), "customer": customer_id, **more}


_ACCOUNT_FOR_UPDATE = select(points_accounts).where(_in_partition(points_accounts)).with_for_update()
_SAVE_ACCOUNT = (
    update(points_accounts)
    .where(_in_partition(points_accounts))
    .values(balance=bindparam("balance"), entries=bindparam("entries"), updated_at=bindparam("updated_at"))
)
_INSERT_ENTRIES = insert(points_entries)
_ORDER_ENTRIES = select(points_entries).where(
    _in_partition(points_entries), points_entries.c.order_id == bindparam("order")
)
_CHOREOGRAPHED_ORDER = select(choreographed_orders).where(
    _in_partition(choreographed_orders), choreographed_orders.c.order_id == bindparam("order")
)
_PAYMENTS_NOTED = select(early_payments.c.outcome).where(
    _in_partition(early_payments), early_payments.c.order_id == bindparam("order")
)


def _insert_unless_there(session: AsyncSession, table: Table) -> sqlite.Insert | postgresql.Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` of the row it is executed with, in the session's dialect: no error,
    so no savepoint, when the row is there already."""
    return _INSERTS_IGNORING_DUPLICATES[session.get_bind().dialect.name][table]


class Layout:
    """The configured partition count, checked once per process against the one the ledger was laid out with."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self._checked = False

    def partition_of(self, customer_id: str) -> int:
        """The partition that holds ``customer_id``'s rows."""
        return partition_of(customer_id, partitions=self.partitions)

    async def check(self, session: AsyncSession, *, claim: bool) -> None:
        """Raise ``PartitionCountChangedError`` on a mismatch; ``claim`` records the count if none is yet."""
        if self._checked:
            return
        laid_out = await self._laid_out(session)
        if laid_out is None:
            if not claim:
                return  # nothing written yet, so nothing misplaced: the first write claims the count
            claimed = {"id": 1, "partitions": self.partitions, "laid_out_at": utc_now()}
            await session.execute(_insert_unless_there(session, ledger_layout), claimed)
            # This transaction's claim, or the one a concurrent first write committed meanwhile.
            if (laid_out := await self._laid_out(session)) != self.partitions:
                raise PartitionCountChangedError(laid_out=laid_out or 0, configured=self.partitions)
            return  # not remembered: the claim holds only once this transaction commits
        if laid_out != self.partitions:
            raise PartitionCountChangedError(laid_out=laid_out, configured=self.partitions)
        self._checked = True

    @staticmethod
    async def _laid_out(session: AsyncSession) -> int | None:
        return (await session.execute(select(ledger_layout.c.partitions))).scalar_one_or_none()


def _entry(row: RowMapping) -> Entry:
    amount = Money(row["amount_minor"], row["currency"]) if row["amount_minor"] is not None else None
    return Entry(
        customer_id=row["customer_id"],
        number=row["number"],
        order_id=row["order_id"],
        kind=EntryKind(row["kind"]),
        points=row["points"],
        balance_after=row["balance_after"],
        recorded_at=row["recorded_at"],
        amount=amount,
    )


def _entry_row(partition: int, entry: Entry) -> dict[str, Any]:
    return {
        "partition_no": partition,
        "customer_id": entry.customer_id,
        "number": entry.number,
        "order_id": entry.order_id,
        "kind": entry.kind.value,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "amount_minor": entry.amount.amount_minor if entry.amount else None,
        "currency": entry.amount.currency if entry.amount else None,
        "recorded_at": entry.recorded_at,
    }


class SqlLedger:
    """The points ledger in the caller's transaction; each method works in one customer's partition."""

    def __init__(self, session: AsyncSession, layout: Layout) -> None:
        self.session = session
        self.layout = layout

    def _keys(self, table: Table, customer_id: str) -> ColumnElement[bool]:
        return and_(table.c.partition_no == self.layout.partition_of(customer_id), table.c.customer_id == customer_id)

    async def account(self, customer_id: str) -> PointsAccount:
        await self.layout.check(self.session, claim=True)
        opened = {
            "partition_no": self.layout.partition_of(customer_id),
            "customer_id": customer_id,
            "balance": 0,
            "entries": 0,
            "updated_at": utc_now(),
        }
        await self.session.execute(_insert_unless_there(self.session, points_accounts), opened)
        # The row lock on PostgreSQL is what serialises one customer's commands; SQLite's writer is one anyway.
        row = (await self.session.execute(_ACCOUNT_FOR_UPDATE, _bound(self.layout, customer_id))).mappings().one()
        return PointsAccount(customer_id=customer_id, balance=row["balance"], entries=row["entries"])

    async def order(self, customer_id: str, order_id: str) -> OrderEntries:
        rows = await self.session.execute(_ORDER_ENTRIES, _bound(self.layout, customer_id, order=order_id))
        entries = {entry.kind: entry for entry in map(_entry, rows.mappings())}
        return OrderEntries(order_id, award=entries.get(EntryKind.AWARD), revoke=entries.get(EntryKind.REVOKE))

    async def record(self, account: PointsAccount) -> None:
        partition = self.layout.partition_of(account.customer_id)
        await self.session.execute(_INSERT_ENTRIES, [_entry_row(partition, e) for e in account.recorded])
        saved = _bound(
            self.layout,
            account.customer_id,
            balance=account.balance,
            entries=account.entries,
            updated_at=account.recorded[-1].recorded_at,
        )
        await self.session.execute(_SAVE_ACCOUNT, saved)

    async def statement(self, customer_id: str, *, limit: int) -> Statement:
        await self.layout.check(self.session, claim=False)
        # One statement, so the balance and the entries are of one moment even without a transaction.
        query = (
            select(points_accounts.c.balance, points_entries)
            .select_from(points_accounts)
            .outerjoin(
                points_entries,
                and_(
                    points_entries.c.partition_no == points_accounts.c.partition_no,
                    points_entries.c.customer_id == points_accounts.c.customer_id,
                ),
            )
            .where(self._keys(points_accounts, customer_id))
            .order_by(points_entries.c.number.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(query)).mappings().all()
        if not rows:
            return Statement(customer_id=customer_id, balance=0, entries=[])
        entries = [_entry(row) for row in rows if row["number"] is not None]
        return Statement(customer_id=customer_id, balance=rows[0]["balance"], entries=entries)


class SqlChoreographedOrders:
    """The choreographed orders in the caller's transaction; each method works in one customer's partition."""

    def __init__(self, session: AsyncSession, layout: Layout) -> None:
        self.session = session
        self.layout = layout

    async def remember(self, order: ChoreographedOrder) -> None:
        await self.layout.check(self.session, claim=True)
        row = {
            "partition_no": self.layout.partition_of(order.customer_id),
            "customer_id": order.customer_id,
            "order_id": order.order_id,
            "amount_minor": order.total.amount_minor,
            "currency": order.total.currency,
            "requested_at": order.requested_at,
        }
        await self.session.execute(_insert_unless_there(self.session, choreographed_orders), row)

    async def find(self, customer_id: str, order_id: str) -> ChoreographedOrder | None:
        await self.layout.check(self.session, claim=False)
        found = await self.session.execute(_CHOREOGRAPHED_ORDER, _bound(self.layout, customer_id, order=order_id))
        row = found.mappings().one_or_none()
        if row is None:
            return None
        return ChoreographedOrder(
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            total=Money(row["amount_minor"], row["currency"]),
            requested_at=row["requested_at"],
        )

    async def note_payment(self, customer_id: str, order_id: str, outcome: PaymentOutcome) -> None:
        await self.layout.check(self.session, claim=True)
        row = {
            "partition_no": self.layout.partition_of(customer_id),
            "customer_id": customer_id,
            "order_id": order_id,
            "outcome": outcome.value,
        }
        await self.session.execute(_insert_unless_there(self.session, early_payments), row)

    async def payments_noted(self, customer_id: str, order_id: str) -> set[PaymentOutcome]:
        noted = await self.session.execute(_PAYMENTS_NOTED, _bound(self.layout, customer_id, order=order_id))
        return {PaymentOutcome(outcome) for outcome in noted.scalars()}


class DatabaseLedger:
    """The ledger over the service's database: in a command's transaction, or read for the API."""

    def __init__(self, database: Database, layout: Layout) -> None:
        self.database = database
        self.layout = layout

    async def lay_out(self) -> None:
        """Claim the configured partition count for a new ledger; raise if the ledger has another one."""
        async with self.database.transaction() as session:
            await self.layout.check(session, claim=True)

    def in_session(self, session: AsyncSession) -> SqlLedger:
        """The ledger in ``session``'s transaction (the consumer's, for a command)."""
        return SqlLedger(session, self.layout)

    async def statement(self, customer_id: str, *, limit: int) -> Statement:
        """The customer's balance and recent entries, read without waiting for writers."""
        async with self.database.read() as session:
            return await SqlLedger(session, self.layout).statement(customer_id, limit=limit)
