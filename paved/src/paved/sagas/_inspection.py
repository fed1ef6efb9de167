"""What ``paved sagas`` reads and does: the sagas a service's database holds, their timelines, re-drives.

It opens the service's database with the service's own saga tables (paved's, not the service's
domain tables), the way ``paved dlq`` opens the broker: an operator's tool beside the running shop.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

from sqlalchemy import MetaData, inspect, or_, select
from sqlalchemy.engine import RowMapping

from paved._database import Database
from paved._times import as_utc
from paved.sagas._orchestrator import retry_saga
from paved.sagas._tables import SAGAS, SagaTables, saga_tables


@dataclass(frozen=True)
class SagaSummary:
    service: str
    id: str
    saga: str
    style: str
    state: str
    step: str
    needs_attention: bool
    reason: str | None
    started_at: datetime
    updated_at: datetime
    finished: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    step: str
    kind: str
    attempt: int
    outcome: str
    detail: str | None


class SagaStore:
    """One service's saga tables, read (and re-driven) from outside the service."""

    def __init__(self, service: str, database_url: str) -> None:
        self.service = service
        self.database = Database(database_url)
        self.tables: SagaTables = saga_tables(MetaData())

    async def __aenter__(self) -> Self:
        await self.database.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.database.stop()

    async def has_sagas(self) -> bool:
        async with self.database.engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).has_table(SAGAS))

    async def list(
        self, *, state: str | None = None, stuck_after: timedelta | None = None, limit: int = 50
    ) -> list[SagaSummary]:
        """The newest sagas (optionally of one state, or only the stuck ones), newest first."""
        sagas = self.tables.sagas
        query = select(sagas).order_by(sagas.c.started_at.desc(), sagas.c.id).limit(limit)
        if state is not None:
            query = query.where(sagas.c.state == state)
        if stuck_after is not None:
            quiet_since = datetime.now(UTC) - stuck_after
            query = query.where(
                sagas.c.finished_at.is_(None),
                or_(sagas.c.needs_attention.is_(True), sagas.c.updated_at < quiet_since),
            )
        async with self.database.read() as session:
            return [self._summary(row) for row in (await session.execute(query)).mappings()]

    # ``builtins.list``: inside the class, ``list`` is the method above.
    async def show(self, saga_id: str) -> tuple[SagaSummary, builtins.list[TimelineEntry]] | None:
        """One saga and its timeline, oldest first; None if this service has no such saga."""
        sagas, log = self.tables.sagas, self.tables.log
        async with self.database.read() as session:
            row = (await session.execute(select(sagas).where(sagas.c.id == saga_id))).mappings().first()
            if row is None:
                return None
            entries = (
                await session.execute(select(log).where(log.c.saga_id == saga_id).order_by(log.c.at, log.c.seq))
            ).mappings()
            timeline = [
                TimelineEntry(as_utc(e["at"]), e["step"], e["kind"], e["attempt"], e["outcome"], e["detail"])
                for e in entries
            ]
        return self._summary(row), timeline

    async def retry(self, saga_id: str) -> bool:
        """Re-drive an orchestrated saga that needs attention; False if it needs none here."""
        async with self.database.transaction() as session:
            return await retry_saga(session, self.tables, saga_id)

    def _summary(self, r: RowMapping) -> SagaSummary:
        return SagaSummary(
            service=self.service,
            id=r["id"],
            saga=r["saga"],
            style=r["style"],
            state=r["state"],
            step=r["step"],
            needs_attention=bool(r["needs_attention"]),
            reason=r["reason"],
            started_at=as_utc(r["started_at"]),
            updated_at=as_utc(r["updated_at"]),
            finished=r["finished_at"] is not None,
        )
