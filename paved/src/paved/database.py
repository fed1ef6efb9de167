"""A service's own database: an async SQLAlchemy engine, transactions, and a readiness check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


_READ_ONLY = "paved_read_only"


def _tune_sqlite(dbapi_connection: Any, _: Any) -> None:
    # The driver's own transaction handling defers BEGIN to the first write and breaks SAVEPOINT
    # (releasing one commits everything); paved emits BEGIN itself instead (see _begin_sqlite).
    dbapi_connection.isolation_level = None
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
        # aiosqlite runs each connection in its own thread. Many threads fight over the GIL (measured:
        # the default pool of up to 15 connections answers a third of what 2 do on two cores), and SQLite
        # has one writer anyway: a small pool is faster and no less concurrent.
        # No rollback when a connection goes back to the pool: paved ends every transaction itself,
        # and on SQLite that rollback is one more hop to the driver's thread per request.
        engine = create_async_engine(parsed, pool_size=2, max_overflow=0, pool_reset_on_return=None)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
        return engine
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """The service's database. Nothing connects until :meth:`start`."""

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

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
        """A session in one transaction: committed when the block ends, rolled back if it raises."""
        async with self._session_factory() as session, session.begin():
            yield session

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
