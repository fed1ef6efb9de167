"""The orchestrator: carries out the engine's decisions through paved's requests, in the answer's transaction.

    orchestration = Orchestration(tables=tables.sagas, requests=requests, database=service.database)
    fulfilment = orchestration.orchestrate(fulfilment_saga, on_change=progress)
    returns = orchestration.orchestrate(returns_saga)
    service.background("paved-saga-wake-ups", orchestration.wake_ups())

One ``Orchestration`` per service takes every reply and timeout of its sagas and routes each to the saga
its instance was started as (the name ``paved_sagas`` keeps), so a service runs several sagas side by
side, whose replies may even be of the same types. Each instance is written in the transaction that
sends its next command through the outbox, and a reply or a timeout is handled in the transaction that
settles its request, by whichever instance of the service gets it: a kill -9 at any point loses nothing
and repeats nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from paved._background import Run, poller
from paved._database import Database
from paved._times import now_ms
from paved.messaging._consumer import Handling
from paved.messaging._contracts import Reply
from paved.messaging._requests import PendingRequest, Requests
from paved.sagas._definition import Saga, SagaDefinitionError, StepContext
from paved.sagas._engine import Decision, Note, SagaEngine, Send, backoff_ms, redrive
from paved.sagas._state import ChangeKind, Outcome, SagaChange, SagaInstance, SagaNotFoundError
from paved.sagas._store import SagaRecords
from paved.sagas._tables import SagaTables

log = structlog.get_logger(logger_name="paved.sagas")

OnChange = Callable[[AsyncSession, SagaChange], Awaitable[None]]


@dataclass(frozen=True)
class _Orchestrated:
    engine: SagaEngine
    on_change: OnChange | None


class Orchestration:
    """The orchestrated sagas of one service: their replies and timeouts taken once, routed by saga name."""

    def __init__(
        self,
        *,
        tables: SagaTables,
        requests: Requests,
        database: Database,
        backoff: Callable[[int], int] = backoff_ms,
    ) -> None:
        self.requests = requests
        self.database = database
        self.backoff = backoff
        self.records = SagaRecords(tables)
        self._sagas: dict[str, _Orchestrated] = {}
        self._reply_types: set[type[Reply]] = set()
        # The saga builds its commands at run time, so it cannot name their types: it takes every
        # timeout of this service's requests that no other handler claims.
        requests.on_any_timeout(self._timed_out)

    def orchestrate(self, saga: Saga, *, on_change: OnChange | None = None) -> Orchestrator:
        """Run ``saga`` in this service; ``on_change`` is told what happens to each instance, in its transaction.

        Raises:
            SagaDefinitionError: a saga of that name is run here already, or one of its reply types is
                handled on the reply consumer by something other than this orchestration.
        """
        if saga.name in self._sagas:
            raise SagaDefinitionError(f"saga {saga.name!r} is orchestrated twice in this service")
        new = saga.reply_types() - self._reply_types
        taken = sorted(t.message_type for t in new if self.requests.handles_reply(t))
        if taken:
            raise SagaDefinitionError(
                f"saga {saga.name!r} awaits replies that another handler of {self.requests.replies.name} "
                f"takes already: {', '.join(taken)}"
            )
        for reply_type in saga.reply_types() - self._reply_types:
            self.requests.on_reply(reply_type)(self._answered)
            self._reply_types.add(reply_type)
        orchestrated = _Orchestrated(SagaEngine(saga, backoff=self.backoff), on_change)
        self._sagas[saga.name] = orchestrated
        return Orchestrator(self, orchestrated)

    async def wake_due(self, *, sagas: frozenset[str] | None = None) -> int:
        """Send again for the instances whose wait is over, each in its own transaction; returns how many.

        One round of ``wake_ups``; ``sagas`` limits it to instances of those names (default: all run here).
        """
        names = self._sagas.keys() if sagas is None else sagas & self._sagas.keys()
        async with self.database.read() as session:
            due = await self.records.due(session, sagas=names, now_ms=now_ms())
        woken = 0
        for saga_id in due:
            async with self.database.transaction() as session:
                found = await self.records.load(session, saga_id)
                if found is None:
                    continue
                instance, _ = found
                orchestrated = self._sagas[instance.saga]
                decision = orchestrated.engine.wake(instance, now_ms=now_ms())
                if decision is None:
                    continue  # another instance of the service woke it meanwhile
                await self._carry_out(session, orchestrated, instance, decision)
                woken += 1
        return woken

    def wake_ups(self, *, every_seconds: float = 0.2) -> Run:
        """The background task that wakes due sagas (``service.background(name, orchestration.wake_ups())``)."""

        async def wake() -> None:
            await self.wake_due()

        return poller(wake, every=every_seconds)

    # -- answers ------------------------------------------------------------------------------------

    async def _awaiting(
        self, session: AsyncSession, request: PendingRequest
    ) -> tuple[SagaInstance, _Orchestrated] | None:
        """The instance awaiting ``request`` and the saga it runs as; None if no instance awaits it."""
        found = await self.records.load(session, request.correlation_id)
        if found is None or found[0].request_id != request.id:
            return None
        instance, _ = found
        orchestrated = self._sagas.get(instance.saga)
        if orchestrated is None:
            # Raised, not ignored: the answer is retried (a reply then parked) until a version that runs the saga takes it.
            raise SagaDefinitionError(f"saga {instance.id} runs as {instance.saga!r}, which is not orchestrated here")
        return instance, orchestrated

    async def _answered(self, handling: Handling, reply: Reply, request: PendingRequest) -> None:
        awaiting = await self._awaiting(handling.session, request)
        if awaiting is None:
            log.info("answer to a command no saga awaits; ignored", request_id=request.id, reply=reply.message_type)
            return
        instance, orchestrated = awaiting
        decision = orchestrated.engine.replied(instance, request_id=request.id, reply=reply, now_ms=now_ms())
        if decision is not None:
            await self._carry_out(handling.session, orchestrated, instance, decision)

    async def _timed_out(self, handling: Handling, request: PendingRequest) -> None:
        awaiting = await self._awaiting(handling.session, request)
        if awaiting is None:
            return
        instance, orchestrated = awaiting
        decision = orchestrated.engine.timed_out(instance, request_id=request.id, now_ms=now_ms())
        if decision is not None:
            await self._carry_out(handling.session, orchestrated, instance, decision)

    # -- carrying out -------------------------------------------------------------------------------

    async def _carry_out(
        self, session: AsyncSession, orchestrated: _Orchestrated, before: SagaInstance | None, decision: Decision
    ) -> None:
        """Tell, send and record what the engine decided, in order, in ``session``'s transaction."""
        saga = orchestrated.engine.saga
        instance = decision.instance
        notes: list[Note] = []
        for effect in decision.effects:
            if isinstance(effect, Note):
                notes.append(effect)
            elif isinstance(effect, SagaChange):
                if orchestrated.on_change is not None:
                    await orchestrated.on_change(session, effect)
            else:
                request_id, sent = await self._send(session, saga, instance, effect)
                instance = replace(instance, request_id=request_id)  # what the saga now awaits
                notes.append(sent)
        step = saga.steps[instance.step_index].name
        if before is None:
            await self.records.insert(session, instance, step=step)
        else:
            await self.records.save(session, before, instance, step=step)
        await self.records.write_notes(session, instance.id, notes)

    async def _send(self, session: AsyncSession, saga: Saga, instance: SagaInstance, send: Send) -> tuple[str, Note]:
        """Send the command ``send`` asks for; its request id, and the timeline entry that says so."""
        action = saga.action(send.step_index, compensation=send.kind is ChangeKind.COMPENSATION)
        context = StepContext(session=session, saga_id=instance.id, data=instance.data, attempt=send.attempt)
        command = await action.command(context)
        envelope = await self.requests.send(session, command, deadline=action.deadline, correlation_id=instance.id)
        detail = f"{command.message_type} (attempt {send.attempt})"
        return envelope.id, Note(send.step, send.kind, Outcome.SENT, send.attempt, detail)


class Orchestrator:
    """Starts and cancels the instances of one saga; made by its service's ``Orchestration.orchestrate``."""

    def __init__(self, orchestration: Orchestration, orchestrated: _Orchestrated) -> None:
        self._orchestration = orchestration
        self._orchestrated = orchestrated
        self.saga = orchestrated.engine.saga

    async def start(self, session: AsyncSession, saga_id: str, data: dict[str, Any]) -> None:
        """Start a saga in the caller's transaction: its row, its first command, both or neither."""
        decision = self._orchestrated.engine.start(saga_id, data)
        await self._orchestration._carry_out(session, self._orchestrated, None, decision)

    async def cancel(self, session: AsyncSession, saga_id: str, *, reason: str) -> None:
        """Ask a saga to undo what it did, in the caller's transaction (see the engine's rules).

        Raises:
            SagaNotFoundError: no instance of this saga has that id.
            SagaNotCancellableError: it is past its pivot, or ended.
        """
        found = await self._orchestration.records.load(session, saga_id)
        if found is None or found[0].saga != self.saga.name:
            raise SagaNotFoundError(saga_id)
        instance, _ = found
        decision = self._orchestrated.engine.cancel(instance, reason=reason)
        if decision is not None:
            await self._orchestration._carry_out(session, self._orchestrated, instance, decision)

    async def wake_due(self) -> int:
        """Send again for this saga's instances whose wait is over; returns how many."""
        return await self._orchestration.wake_due(sagas=frozenset({self.saga.name}))


async def retry_saga(session: AsyncSession, tables: SagaTables, saga_id: str) -> bool:
    """Re-drive a saga that needs attention (``paved sagas retry``): due now, its attempts counted afresh.

    The service's orchestration sends the step in hand again when it next wakes due sagas. False if the
    saga needs no attention (or is no orchestrated saga of this database).
    """
    records = SagaRecords(tables)
    found = await records.load(session, saga_id)
    if found is None:
        return False
    instance, step = found
    decision = redrive(instance, step=step, now_ms=now_ms())
    if decision is None:
        return False
    await records.save(session, instance, decision.instance, step=step)
    await records.write_notes(session, saga_id, decision.notes)
    return True
