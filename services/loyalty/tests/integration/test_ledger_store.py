from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from paved import Database, Service
from sqlalchemy import select

from loyalty.domain import EntryKind
from loyalty.partitioning import PartitionCountChangedError, partition_of
from loyalty.store import DatabaseLedger, Layout, ledger_layout, points_accounts, points_entries

from . import ledger
from .conftest import PARTITIONS


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The migrated database with no service started on it yet: no partition count claimed."""
    database = Database(database_url)
    await database.start()
    try:
        yield database
    finally:
        await database.stop()


async def test_every_row_is_in_its_customers_partition(service: Service, service_ledger: DatabaseLedger) -> None:
    """Accounts and entries of many customers are stored under partition_of(customer_id), and spread over all."""
    for n in range(24):
        await ledger.award(service_ledger, f"acc_{n}", "o-1", 1000)
    async with service.database.read() as session:
        accounts = (await session.execute(select(points_accounts.c.partition_no, points_accounts.c.customer_id))).all()
        entries = (await session.execute(select(points_entries.c.partition_no, points_entries.c.customer_id))).all()
    assert len(accounts) == len(entries) == 24
    for partition, customer_id in [*accounts, *entries]:
        assert partition == partition_of(customer_id, partitions=PARTITIONS)
    assert {partition for partition, _ in accounts} == set(range(PARTITIONS))


async def test_concurrent_commands_for_one_customer_neither_lose_nor_double_points(
    service_ledger: DatabaseLedger,
) -> None:
    """Twenty orders awarded at once, each sent twice, in separate transactions: twenty entries, numbered without
    gaps, and a balance of exactly their points (PostgreSQL's row lock; SQLite's single writer)."""
    amounts = {f"o-{n}": 100 * (n + 1) for n in range(20)}  # each order has one amount, however often it is sent
    orders = list(amounts)
    await asyncio.gather(*(ledger.award(service_ledger, "acc_ann", order, amounts[order]) for order in orders * 2))
    statement = await service_ledger.statement("acc_ann", limit=100)
    assert statement.balance == sum(range(1, 21))
    assert sorted(e.number for e in statement.entries) == list(range(1, 21))
    assert sorted(e.order_id for e in statement.entries) == sorted(orders)


async def test_awards_and_revocations_racing_end_as_if_in_any_order(service_ledger: DatabaseLedger) -> None:
    """An award and a revocation of each order sent at once: whichever wins, no order keeps points."""
    awards = [ledger.award(service_ledger, "acc_ann", f"o-{n}", 1000) for n in range(10)]
    revocations = [ledger.revoke(service_ledger, "acc_ann", f"o-{n}") for n in range(10)]
    await asyncio.gather(*(step for pair in zip(awards, revocations, strict=True) for step in pair))
    statement = await service_ledger.statement("acc_ann", limit=100)
    assert statement.balance == 0
    assert sum(e.kind is EntryKind.REVOKE for e in statement.entries) == 10


async def test_reading_a_new_ledger_claims_nothing_and_the_first_write_does(database: Database) -> None:
    """A read of a ledger never written shows zero and lays nothing out; the first write records the count."""
    four = DatabaseLedger(database, Layout(4))
    assert (await four.statement("acc_ann", limit=10)).balance == 0
    async with database.read() as session:
        assert (await session.execute(select(ledger_layout))).first() is None
    await ledger.award(four, "acc_ann", "o-1", 1000)
    async with database.read() as session:
        assert (await session.execute(select(ledger_layout.c.partitions))).scalar_one() == 4


async def test_a_ledger_of_another_count_neither_reads_nor_writes(database: Database) -> None:
    """Once laid out in four partitions, a ledger configured with five refuses both, and nothing changes."""
    four, five = DatabaseLedger(database, Layout(4)), DatabaseLedger(database, Layout(5))
    await ledger.award(four, "acc_ann", "o-1", 1000)
    with pytest.raises(PartitionCountChangedError):
        await five.statement("acc_ann", limit=10)
    with pytest.raises(PartitionCountChangedError):
        await ledger.award(five, "acc_ann", "o-2", 1000)
    with pytest.raises(PartitionCountChangedError):
        await five.lay_out()
    assert (await four.statement("acc_ann", limit=10)).balance == 10


async def test_of_two_first_writers_with_different_counts_one_is_refused(database: Database) -> None:
    """Two instances configured differently, both writing first at once: one lays the ledger out, the other fails."""
    four, five = DatabaseLedger(database, Layout(4)), DatabaseLedger(database, Layout(5))
    outcomes = await asyncio.gather(
        ledger.award(four, "acc_ann", "o-1", 1000), ledger.award(five, "acc_bob", "o-1", 1000), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["OrderEntries", "PartitionCountChangedError"]


async def test_a_claim_that_was_rolled_back_is_not_trusted(database: Database) -> None:
    """A first write that rolled back laid nothing out: another count may claim, and the first is then refused."""
    four, five = DatabaseLedger(database, Layout(4)), DatabaseLedger(database, Layout(5))
    with pytest.raises(RuntimeError, match="the command failed"):
        async with database.transaction() as session:
            await four.in_session(session).account("acc_ann")
            raise RuntimeError("the command failed after the claim")
    await ledger.award(five, "acc_bob", "o-1", 1000)
    with pytest.raises(PartitionCountChangedError):
        await ledger.award(four, "acc_ann", "o-1", 1000)
