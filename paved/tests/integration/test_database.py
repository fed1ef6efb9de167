"""The SQLite seam: statements run in the event loop's thread, and write transactions take turns in asyncio."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text

from paved._database import Database, NestedTransactionError


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/test.db")
    await database.start()
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (task TEXT, step INT)"))
    yield database  # type: ignore[misc]
    await database.stop()


async def test_statements_run_in_the_event_loops_thread(database: Database) -> None:
    threads: set[int] = set()
    event.listen(
        database.engine.sync_engine,
        "before_cursor_execute",
        lambda *_: threads.add(threading.get_ident()),
    )
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO t VALUES ('a', 1)"))
    async with database.read() as session:
        await session.execute(text("SELECT * FROM t"))
    assert threads == {threading.get_ident()}


async def test_write_transactions_that_await_take_turns_and_readers_go_on(database: Database) -> None:
    """A writer that awaits mid-transaction does not block the loop: the next writer waits its turn
    in asyncio (without SQLite's busy wait, which would stall the loop) and a reader is not held up."""
    order: list[str] = []
    first_holds_lock = asyncio.Event()

    async def write(name: str, pause: float) -> None:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES (:task, 1)"), {"task": name})
            order.append(f"{name} wrote")
            first_holds_lock.set()
            await asyncio.sleep(pause)
            await session.execute(text("INSERT INTO t VALUES (:task, 2)"), {"task": name})
        order.append(f"{name} committed")

    async def read() -> None:
        await first_holds_lock.wait()
        async with database.read() as session:
            count = (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()
        order.append(f"read {count}")

    async with asyncio.timeout(3):  # SQLite's own wait would be busy_timeout (5 s), blocking the loop
        await asyncio.gather(write("a", 0.3), write("b", 0.0), read())
    assert order == ["a wrote", "read 0", "a committed", "b wrote", "b committed"]
    async with database.read() as session:
        rows = (await session.execute(text("SELECT task, step FROM t ORDER BY rowid"))).all()
    assert [tuple(row) for row in rows] == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]


async def test_a_transaction_inside_a_transaction_is_refused_not_deadlocked(database: Database) -> None:
    async with asyncio.timeout(3), database.transaction() as session:
        await session.execute(text("INSERT INTO t VALUES ('outer', 1)"))
        with pytest.raises(NestedTransactionError, match="pass its session down"):
            async with database.transaction():
                pass
    async with database.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1


async def test_a_failed_transaction_rolls_back_and_frees_the_writer(database: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES ('lost', 1)"))
            1 / 0  # noqa: B018
    async with asyncio.timeout(3), database.transaction() as session:
        await session.execute(text("INSERT INTO t VALUES ('kept', 1)"))
    async with database.read() as session:
        assert (await session.execute(text("SELECT task FROM t"))).scalars().all() == ["kept"]


async def test_a_task_started_inside_a_transaction_waits_its_turn(database: Database) -> None:
    """Only the same task nesting is refused: another task (even one started inside) waits instead."""
    async with asyncio.timeout(3):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES ('outer', 1)"))

            async def later() -> None:
                async with database.transaction() as inner:
                    await inner.execute(text("INSERT INTO t VALUES ('child', 1)"))

            child = asyncio.create_task(later())
        await child
    async with database.read() as session:
        assert (await session.execute(text("SELECT task FROM t ORDER BY rowid"))).scalars().all() == ["outer", "child"]
