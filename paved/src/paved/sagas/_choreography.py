"""The saga view: where a choreographed business process is, assembled from the events on the broker.

In a choreography nobody owns the whole picture: each service reacts to the others' events. A view
declares which event types mark the milestones of one kind of process, and consumes the streams they
travel on; every event is recorded, by its correlation id, into the same ``paved_sagas`` row and
timeline that an orchestrator keeps, so ``paved sagas list|show|stuck`` answer "where is order X?" and
"which are stuck?" for both styles alike.

    view = SagaView(
        "fulfilment-choreographed",
        Milestone("order.OrderPlaced", "placed", starts=True),
        Milestone("warehouse.StockReserved", "stock_reserved"),
        Milestone("warehouse.OrderDispatched", "dispatched", final=True),
        ...
    )
    view.observe(service.messaging, consumer="order-saga-view", streams={"WAREHOUSE_EVENTS": ["warehouse.events.>"]})

The state is that of the latest milestone by the time it happened (events of different services may
arrive in another order than they happened); a final milestone is never left. A process that is not
final and has not moved for a while is stuck (``paved sagas stuck --older-than``). Events of other types on
the same subjects go into the timeline of a process already known, and start none. A milestone of a
process whose start has not been seen (yet: streams are consumed apart, so a later event may arrive
first) starts it, with the reason saying so. A process another saga owns (its id is an orchestrated
saga's, in the same database) is left to that saga: one business process, one timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import bindparam, insert, select, update

from paved._times import as_utc
from paved.messaging._consumer import Handling
from paved.messaging._runtime import Messaging
from paved.sagas._state import ChangeKind, SagaStyle
from paved.sagas._tables import SagaTables


@dataclass(frozen=True)
class Milestone:
    """An event type that moves a process to ``state``; ``final`` ones end it."""

    event_type: str
    state: str
    final: bool = False
    starts: bool = False


class SagaView:
    """The processes of one choreographed saga, by correlation id, as their events pass by."""

    def __init__(self, name: str, *milestones: Milestone) -> None:
        self.name = name
        self.milestones = {milestone.event_type: milestone for milestone in milestones}
        self.final_states = frozenset(m.state for m in milestones if m.final)
        self.tables: SagaTables | None = None

    def observe(
        self, messaging: Messaging, *, tables: SagaTables, consumer: str, streams: dict[str, list[str]]
    ) -> None:
        """Consume the events of ``streams`` (name → subjects) with a durable consumer of this service; a
        stream the service does not own, it follows."""
        self.tables = tables
        sagas = tables.sagas
        # Built once: a statement built per event costs more Python than SQLite spends running it.
        self._process = (
            select(sagas.c.saga, sagas.c.state, sagas.c.step_index, sagas.c.started_at, sagas.c.updated_at)
            .where(sagas.c.id == bindparam("saga_id"))
            .with_for_update()
        )
        self._insert_process, self._insert_entry = insert(sagas), insert(tables.log)
        self._update_process = update(sagas).where(sagas.c.id == bindparam("saga_id"))
        owned = {stream.name: stream for stream in messaging.streams}
        for name, subjects in streams.items():
            source = owned.get(name) or messaging.follow(name)
            messaging.consumer(f"{consumer}-{name.lower()}", stream=source, subjects=subjects).observer = self.record

    async def record(self, handling: Handling) -> None:
        """Record one event in its process's timeline, and move the process's state if it is a milestone."""
        assert self.tables is not None, "observe() first"
        envelope = handling.envelope
        session = handling.session
        milestone = self.milestones.get(envelope.type)
        at = envelope.occurred_at.astimezone(UTC)
        row = (await session.execute(self._process, {"saga_id": envelope.correlation_id})).first()
        if row is not None and row.saga != self.name:
            return  # another saga owns this process (e.g. an orchestrated one): it keeps its own timeline
        if row is None and milestone is None:
            return  # not a process of this saga's (e.g. a restock), nor one it has seen start
        if row is None:
            starts = milestone is not None and milestone.starts
            await session.execute(
                self._insert_process,
                {
                    "id": envelope.correlation_id,
                    "saga": self.name,
                    "style": SagaStyle.CHOREOGRAPHED.value,
                    "state": milestone.state if milestone is not None else "unknown",
                    "step": envelope.type,
                    "step_index": 1,
                    "attempt": 0,
                    "request_id": None,
                    "cancel_requested": False,
                    "needs_attention": False,
                    "reason": None if starts else "its starting event has not been seen",
                    "data": {},
                    "wake_at_ms": None,
                    "started_at": at,
                    "updated_at": at,
                    "finished_at": at if milestone is not None and milestone.final else None,
                },
            )
        else:
            values: dict[str, object] = {"step_index": row.step_index + 1}
            last = as_utc(row.updated_at)
            # A final milestone ends the process whenever it is seen; another one moves it only if it
            # happened after what the view has (streams are consumed apart: a later event may come first).
            if milestone is not None and row.state not in self.final_states and (milestone.final or at >= last):
                values.update(state=milestone.state, step=envelope.type, updated_at=at)
                if milestone.final:
                    values["finished_at"] = at
            if milestone is not None and milestone.starts:
                values["reason"] = None
                values["started_at"] = min(at, as_utc(row.started_at))
            # The SET clause is the keys beside saga_id: compiled once per set of them.
            await session.execute(self._update_process, {"saga_id": envelope.correlation_id, **values})
        await session.execute(
            self._insert_entry,
            {
                "saga_id": envelope.correlation_id,
                "at": at,
                "step": envelope.type,
                "kind": ChangeKind.EVENT.value,
                "attempt": 0,
                "outcome": milestone.state if milestone else "seen",
                "detail": None,
            },
        )
