"""The tables paved keeps for sagas in the database of the service that runs them.

One row per saga instance (``paved_sagas``), whatever its style, and its timeline
(``paved_saga_log``): an orchestrator writes both in the transaction that sends its next command; a
choreography's view writes them in the transaction that records an event it observed. ``paved sagas``
reads them, and ``paved sagas retry`` re-drives a saga that needs attention by setting it due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic import op
from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text

SAGAS = "paved_sagas"
SAGA_LOG = "paved_saga_log"


@dataclass(frozen=True)
class SagaTables:
    sagas: Table
    log: Table


def _saga_columns() -> list[Column[Any]]:
    return [
        Column("id", String(64), primary_key=True),  # also every message's correlation id
        Column("saga", String(100), nullable=False),  # the declaration's name
        Column("style", String(16), nullable=False),  # orchestrated | choreographed
        # orchestrated: running | compensating | completed | compensated; choreographed: its view's state
        Column("state", String(32), nullable=False),
        Column("step", String(100), nullable=False),  # the step in hand, or the last event seen
        Column("step_index", Integer, nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("request_id", String(64), index=True),  # the command awaiting its answer, if any
        Column("cancel_requested", Boolean, nullable=False),
        Column("needs_attention", Boolean, nullable=False),
        Column("reason", Text),
        Column("data", JSON, nullable=False),
        # When a waiting saga is due to send again (milliseconds since the epoch, compared in SQL).
        Column("wake_at_ms", BigInteger, index=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True)),  # set once it reached a final state
    ]


def _log_columns() -> list[Column[Any]]:
    return [
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("saga_id", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("step", String(100), nullable=False),
        Column("kind", String(16), nullable=False),  # action | compensation | event | saga
        Column("attempt", Integer, nullable=False),
        Column("outcome", String(32), nullable=False),
        Column("detail", Text),
    ]


def saga_tables(metadata: MetaData) -> SagaTables:
    """Add paved's saga tables to a service's ``metadata``."""
    return SagaTables(
        sagas=Table(SAGAS, metadata, *_saga_columns(), Index("ix_paved_sagas_open", "state", "updated_at")),
        log=Table(SAGA_LOG, metadata, *_log_columns(), Index("ix_paved_saga_log_saga", "saga_id", "seq")),
    )


def create_saga_tables() -> None:
    """Create the saga tables; call from a service's Alembic revision's ``upgrade()``."""
    op.create_table(SAGAS, *_saga_columns())
    op.create_index("ix_paved_sagas_open", SAGAS, ["state", "updated_at"])
    op.create_table(SAGA_LOG, *_log_columns())
    op.create_index("ix_paved_saga_log_saga", SAGA_LOG, ["saga_id", "seq"])


def drop_saga_tables() -> None:
    op.drop_table(SAGA_LOG)
    op.drop_table(SAGAS)
