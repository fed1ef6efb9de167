"""A service's own database: an async SQLAlchemy engine, transactions, and a readiness check."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


_READ_ONLY = "paved_read_only"


class _RunAtOnce:
    """Stands where aiosqlite's queue to its thread stands, and runs each call at once instead."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class _InlineSQLiteConnection(aiosqlite.Connection):
    """aiosqlite's connection without its thread: each call runs in the event loop's thread.

    A local SQLite statement takes microseconds; the hop to aiosqlite's thread and back takes about
    half a millisecond on two cores (measured: 850 against 3,300 one-insert transactions a second).
    Running inline blocks the loop only while SQLite works, or while it waits for another process's
    write lock (``busy_timeout``); within the process, ``Database`` lets one write transaction at a
    time reach SQLite, so its own transactions never wait on each other inside SQLite.
    Everything else (SQLAlchemy's dialect, cursors, errors) is aiosqlite's, unchanged: SQLAlchemy's
    dialect also puts some calls on the queue directly, which is why the queue is what is replaced.
    """

    def __init__(self, path: str) -> None:
        # isolation_level=None: the driver's own transaction handling defers BEGIN to the first write
        # and breaks SAVEPOINT (releasing one commits everything); paved emits BEGIN itself instead
        # (see _begin_sqlite).
        connect = functools.partial(sqlite3.connect, path, isolation_level=None, check_same_thread=False)
        super().__init__(connect, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # the thread is never started


def _tune_sqlite(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing.
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=5000",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # A unit of work takes the write lock up front: one that read first and wrote later could find
    # its snapshot stale and fail at once (SQLITE_BUSY_SNAPSHOT) instead of waiting its turn.
    # Reads in WAL mode need no lock, and no BEGIN: each query sees one consistent snapshot, and
    # every statement to the driver costs a hop to its thread (the biggest cost of a read here).
    if not connection.get_execution_options().get(_READ_ONLY, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str | URL) -> AsyncEngine:
    """An async engine for ``url``, tuned for its backend; a SQLite file's folder is created."""
    parsed = make_url(url)
    if is_sqlite(parsed):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        path = parsed.database or ":memory:"

        async def connect() -> aiosqlite.Connection:
            connection: aiosqlite.Connection = await _InlineSQLiteConnection(path)
            return connection

        # No rollback when a connection goes back to the pool: paved ends every transaction itself.
        engine = create_async_engine(
            parsed, async_creator=connect, pool_size=4, max_overflow=0, pool_reset_on_return=None
        )
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
        return engine
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True)


class NestedTransactionError(RuntimeError):
    """A unit of work was opened inside another one, in the same task."""


class Database:
    """The service's database. Nothing connects until :meth:`start`."""

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        # SQLite has one writer. Waiting for it here (not inside SQLite, which would block the loop
        # that runs the transaction holding the lock) lets the other tasks go on meanwhile.
        self._writer = asyncio.Lock() if is_sqlite(self.url) else None
        self._tasks_in_transaction: set[asyncio.Task[Any] | None] = set()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the database is not started")
        return self._engine

    async def start(self) -> None:
        self._engine = create_engine(self.url)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @property
    def _session_factory(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database is not started")
        return self._sessions

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back if it raises.

        Not re-entrant: the inner one would be a second transaction, waiting for the outer one's
        lock (SQLite) or committing apart from it (PostgreSQL); pass the session down instead.
        """
        task = asyncio.current_task()
        if task in self._tasks_in_transaction:
            raise NestedTransactionError("a transaction is already open in this task; pass its session down")
        self._tasks_in_transaction.add(task)
        try:
            async with self._writer or nullcontext(), self._session_factory() as session, session.begin():
                yield session
        finally:
            self._tasks_in_transaction.discard(task)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries that change nothing: on SQLite it waits for no writer.

        On SQLite each query sees a consistent snapshot, but two queries may see different ones;
        read in ``transaction()`` when they must agree.
        """
        async with self._session_factory() as session, session.begin():
            await session.connection(execution_options={_READ_ONLY: True})
            yield session

    async def ping(self, *, timeout: float = 2.0) -> bool:
        """Whether the database answers a trivial query within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as connection:
                await connection.execution_options(**{_READ_ONLY: True})
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        return True
