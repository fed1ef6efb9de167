"""Orchestrated sagas in ``paved_sagas`` and ``paved_saga_log``: the only place that reads and writes them.

The rows keep exactly the columns and values the services' migrations created (``_tables``); the
instance's step name, update time and finish time are derived here from what the engine decided.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paved.sagas._engine import Note
from paved.sagas._state import FINAL, SagaInstance, SagaState, SagaStyle
from paved.sagas._tables import SagaTables

# The instance's fields that are columns of the same name (all but its id, which is the key).
_COLUMNS = tuple(f.name for f in fields(SagaInstance) if f.name != "id")


def _stored(value: Any) -> Any:
    # The column holds the enum's string, whatever the driver makes of a str subclass.
    return value.value if isinstance(value, StrEnum) else value


class SagaRecords:
    """Loads, inserts and saves orchestrated saga instances, and writes their timelines."""

    def __init__(self, tables: SagaTables) -> None:
        sagas = tables.sagas
        # Built once: building a statement per step costs more Python than SQLite spends running it.
        self._insert_saga = insert(sagas)
        self._insert_notes = insert(tables.log)
        self._update_saga = update(sagas).where(sagas.c.id == bindparam("saga_id"))
        # Held until the transaction ends: two answers for one saga may be handled at once elsewhere.
        self._load_saga = select(sagas).where(sagas.c.id == bindparam("saga_id")).with_for_update()
        self._due = (
            select(sagas.c.id)
            .where(
                sagas.c.saga.in_(bindparam("sagas", expanding=True)),
                sagas.c.wake_at_ms <= bindparam("now_ms"),
                sagas.c.needs_attention.is_(False),
            )
            .order_by(sagas.c.wake_at_ms)
            .limit(100)  # a round at a time: the rest are due next round
        )

    async def load(self, session: AsyncSession, saga_id: str) -> tuple[SagaInstance, str] | None:
        """The orchestrated instance ``saga_id`` and the name of its step as stored, locked until the transaction ends.

        None if there is none (a choreography's process of that id is not an orchestrated instance).
        """
        row = (await session.execute(self._load_saga, {"saga_id": saga_id})).mappings().first()
        if row is None or row["style"] != SagaStyle.ORCHESTRATED:
            return None
        instance = SagaInstance(
            id=row["id"],
            saga=row["saga"],
            state=SagaState(row["state"]),
            step_index=row["step_index"],
            attempt=row["attempt"],
            data=row["data"],
            request_id=row["request_id"],
            cancel_requested=row["cancel_requested"],
            needs_attention=row["needs_attention"],
            reason=row["reason"],
            wake_at_ms=row["wake_at_ms"],
        )
        return instance, row["step"]

    async def insert(self, session: AsyncSession, instance: SagaInstance, *, step: str) -> None:
        """Write a new instance: one INSERT, where an INSERT and an UPDATE would do the same."""
        now = datetime.now(UTC)
        row = {name: _stored(getattr(instance, name)) for name in _COLUMNS}
        final = instance.state in FINAL
        row.update(
            id=instance.id,
            style=SagaStyle.ORCHESTRATED.value,
            step=step,
            started_at=now,
            updated_at=now,
            finished_at=now if final else None,
        )
        await session.execute(self._insert_saga, row)

    async def save(self, session: AsyncSession, before: SagaInstance, after: SagaInstance, *, step: str) -> None:
        """Write what changed from ``before`` to ``after``; ``step`` is the name of ``after``'s step."""
        changes = {
            name: _stored(getattr(after, name)) for name in _COLUMNS if getattr(after, name) != getattr(before, name)
        }
        if "step_index" in changes:
            changes["step"] = step
        changes["updated_at"] = datetime.now(UTC)
        if after.state in FINAL and before.state not in FINAL:
            changes["finished_at"] = changes["updated_at"]
        # The SET clause is the changed columns: the statement is compiled once per set of them.
        await session.execute(self._update_saga, {"saga_id": after.id, **changes})

    async def write_notes(self, session: AsyncSession, saga_id: str, notes: Iterable[Note]) -> None:
        """Add entries to the saga's timeline, in order: one statement for all of them."""
        now = datetime.now(UTC)
        rows = [
            {
                "saga_id": saga_id,
                "at": now,
                "step": note.step,
                "kind": note.kind.value,
                "attempt": note.attempt,
                "outcome": note.outcome.value,
                "detail": note.detail,
            }
            for note in notes
        ]
        if rows:
            await session.execute(self._insert_notes, rows)

    async def due(self, session: AsyncSession, *, sagas: Collection[str], now_ms: int) -> list[str]:
        """The ids of the instances of ``sagas`` whose wait is over, the longest due first."""
        if not sagas:
            return []
        found = await session.execute(self._due, {"sagas": list(sagas), "now_ms": now_ms})
        return list(found.scalars().all())
