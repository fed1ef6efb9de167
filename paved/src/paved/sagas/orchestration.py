"""Orchestrated sagas: ordered steps, each a command with a deadline and an optional compensation.

    fulfilment = Saga(
        "fulfilment",
        SagaStep("reserve_stock", reserve, compensation=release),
        SagaStep("take_payment", take_payment, compensation=refund, pivot=True),
        SagaStep("award_points", award),
        SagaStep("dispatch", dispatch),
    )

The orchestrator keeps each instance in the service's own database and sends each command through
paved's requests (the outbox, with a deadline), in the one transaction that also records where the
saga is. A reply or a timeout is handled in the transaction that settles its request, by whichever
instance of the service gets it, so a kill -9 at any point loses nothing and repeats nothing: what was
committed goes on from the database, what was not is redelivered or timed out.

The rules, from the saga literature:

- Before the pivot, a step that fails (a refusal) makes the saga compensate the steps done, in reverse
  order. A step that stays unanswered after its attempts is compensated too: unanswered is not undone,
  so compensations must accept "nothing to undo".
- The pivot is the step after which the saga only goes forward: once it succeeded, a later step that
  fails or stays unanswered is retried with backoff, and after ``attempts`` the saga needs attention.
- A compensation is retried with backoff until it succeeds; after ``compensation_attempts`` the saga
  needs attention. A saga that needs attention waits for a person (``paved sagas retry``), and is
  re-driven from where it stopped.
- A cancellation before the pivot succeeded wins: the saga waits for the answer to the step in hand,
  then compensates what was done (including the pivot, if it succeeded meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paved.database import Database
from paved.messaging.consumer import Handling
from paved.messaging.contracts import Command, Reply
from paved.messaging.requests import PendingRequest, Requests, repeat
from paved.sagas.tables import SagaTables

log = structlog.get_logger(logger_name="paved.sagas")


class SagaState(StrEnum):
    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"


FINAL = frozenset({SagaState.COMPLETED, SagaState.COMPENSATED})


@dataclass(frozen=True)
class StepContext:
    """What a step's command is built from: the saga's data, in the transaction that sends it."""

    session: AsyncSession
    saga_id: str
    data: dict[str, Any]
    attempt: int


BuildCommand = Callable[[StepContext], Awaitable[Command]]


@dataclass(frozen=True)
class Action:
    """A command to send, the subject it goes to, and which replies mean it was done or refused.

    A reply of a type in neither list is a partner's bug: it fails the handler, so the reply is
    retried and then parked, and the request's deadline decides.
    """

    command: BuildCommand
    subject: str
    succeeded: tuple[type[Reply], ...]
    failed: tuple[type[Reply], ...] = ()
    deadline: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class SagaStep:
    """One step: its action, what undoes it, and how it is retried.

    ``attempts`` is how often the action is sent while it stays unanswered (each attempt is the same
    request to the partner, so partners must handle a repeat as the same request); after the pivot it
    is also how often a refused action is tried again before a person is needed.
    """

    name: str
    action: Action
    compensation: Action | None = None
    pivot: bool = False
    attempts: int = 3


class SagaDefinitionError(ValueError):
    """A saga declared in a way the orchestrator could not run."""


class SagaNotFoundError(LookupError):
    def __init__(self, saga_id: str) -> None:
        super().__init__(f"no saga {saga_id!r}")


class SagaNotCancellableError(Exception):
    """The saga went past its pivot, or ended: it can only go forward."""


@dataclass(frozen=True)
class SagaChange:
    """What just happened to a saga, for the service that runs it to update its own state.

    ``outcome`` is one of: started, succeeded, failed, timed_out, retrying, cancel_requested,
    compensated_step, completed, compensated, needs_attention.
    """

    saga_id: str
    data: dict[str, Any]
    step: str
    kind: str  # action | compensation | saga
    outcome: str
    state: SagaState
    reply: Reply | None = None
    detail: str | None = None


OnChange = Callable[[AsyncSession, SagaChange], Awaitable[None]]


@dataclass
class _Instance:
    """One saga instance as loaded for update."""

    id: str
    state: SagaState
    step_index: int
    attempt: int
    request_id: str | None
    cancel_requested: bool
    needs_attention: bool
    data: dict[str, Any]
    wake_at_ms: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)  # timeline rows, written with the changes


def _now_ms() -> int:
    return int(time.time() * 1000)


def backoff_ms(attempt: int, *, base_ms: int = 500, cap_ms: int = 30_000) -> int:
    """How long to wait before trying again after ``attempt`` tries: doubling, capped."""
    return int(min(base_ms * 2 ** max(attempt - 1, 0), cap_ms))


class Saga:
    """A saga's declaration: a name and its steps in order, at most one of them the pivot."""

    def __init__(self, name: str, *steps: SagaStep, compensation_attempts: int = 5) -> None:
        if not steps:
            raise SagaDefinitionError(f"saga {name!r} has no steps")
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise SagaDefinitionError(f"saga {name!r} names a step twice: {names}")
        pivots = [i for i, step in enumerate(steps) if step.pivot]
        if len(pivots) > 1:
            raise SagaDefinitionError(f"saga {name!r} has more than one pivot: {[names[i] for i in pivots]}")
        self.name = name
        self.steps = steps
        # Without a declared pivot, every step may be compensated (the last one is the pivot in effect).
        self.pivot_index = pivots[0] if pivots else len(steps) - 1
        self.compensation_attempts = compensation_attempts

    def past_pivot(self, index: int) -> bool:
        """Whether the step at ``index`` comes after the pivot, when only going forward is left."""
        return index > self.pivot_index


class Orchestrator:
    """Runs the instances of one ``Saga`` in one service: starts, continues, compensates, re-drives."""

    def __init__(
        self,
        saga: Saga,
        *,
        tables: SagaTables,
        requests: Requests,
        database: Database,
        on_change: OnChange | None = None,
        backoff: Callable[[int], int] = backoff_ms,
    ) -> None:
        self.saga = saga
        self.sagas = tables.sagas
        self.log = tables.log
        self.requests = requests
        self.database = database
        self.on_change = on_change
        self.backoff = backoff
        # Built once: building a statement per step costs more Python than SQLite spends running it.
        self._insert_saga = insert(self.sagas)
        self._insert_notes = insert(self.log)
        self._update_saga = update(self.sagas).where(self.sagas.c.id == bindparam("saga_id"))
        # Held until the transaction ends: two answers for one saga may be handled at once elsewhere.
        self._load_saga = (
            select(self.sagas)
            .where(self.sagas.c.id == bindparam("saga_id"), self.sagas.c.saga == self.saga.name)
            .with_for_update()
        )
        self._register()

    # -- what the service calls ---------------------------------------------------------------------

    async def start(self, session: AsyncSession, saga_id: str, data: dict[str, Any]) -> None:
        """Start a saga in the caller's transaction: its row, its first command, both or neither."""
        instance = _Instance(saga_id, SagaState.RUNNING, 0, 1, None, False, False, data)
        self._note(instance, self.saga.steps[0].name, "saga", "started", None)
        await self._send(session, instance)
        now = datetime.now(UTC)
        # The row as the first command left it: one INSERT, where an INSERT and an UPDATE would do the same.
        row = {
            "id": saga_id,
            "saga": self.saga.name,
            "style": "orchestrated",
            "state": SagaState.RUNNING.value,
            "step": self.saga.steps[0].name,
            "step_index": 0,
            "attempt": 1,
            "request_id": instance.request_id,
            "cancel_requested": False,
            "needs_attention": False,
            "reason": None,
            "data": data,
            "wake_at_ms": None,
            "started_at": now,
            "updated_at": now,
            "finished_at": None,
        }
        await session.execute(self._insert_saga, row)
        await self._write_notes(session, instance)

    async def cancel(self, session: AsyncSession, saga_id: str, *, reason: str) -> None:
        """Ask a saga to undo what it did, in the caller's transaction (see the module's rules)."""
        instance = await self._load(session, saga_id)
        if instance is None:
            raise SagaNotFoundError(saga_id)
        if instance.state in FINAL or (
            instance.state is SagaState.RUNNING and self.saga.past_pivot(instance.step_index)
        ):
            raise SagaNotCancellableError(f"saga {saga_id} is past its pivot or ended: it can only go forward")
        if instance.state is SagaState.COMPENSATING or instance.cancel_requested:
            return  # already undoing, or about to
        instance.cancel_requested = True
        instance.changes["cancel_requested"] = True
        self._note(instance, self._name(instance), "saga", "cancel_requested", reason)
        await self._save(session, instance)

    async def wake_due(self) -> int:
        """Send again for the sagas whose wait is over, each in its own transaction; returns how many."""
        async with self.database.read() as session:
            due = (
                (
                    await session.execute(
                        select(self.sagas.c.id)
                        .where(
                            self.sagas.c.saga == self.saga.name,
                            self.sagas.c.wake_at_ms <= _now_ms(),
                            self.sagas.c.needs_attention.is_(False),
                        )
                        .order_by(self.sagas.c.wake_at_ms)
                        .limit(100)
                    )
                )
                .scalars()
                .all()
            )
        woken = 0
        for saga_id in due:
            async with self.database.transaction() as session:
                instance = await self._load(session, saga_id)
                if instance is None or instance.needs_attention or instance.state in FINAL:
                    continue
                if instance.wake_at_ms is None or instance.wake_at_ms > _now_ms():
                    continue  # another instance woke it meanwhile
                instance.changes["wake_at_ms"] = None
                await self._send(session, instance)
                await self._save(session, instance)
                woken += 1
        return woken

    async def watch(self, *, every_seconds: float = 0.2) -> None:
        """Wake due sagas until cancelled."""
        await repeat(self.wake_due, every_seconds=every_seconds, doing="waking sagas")

    # -- answers ------------------------------------------------------------------------------------

    def _register(self) -> None:
        reply_types: set[type[Reply]] = set()
        for step in self.saga.steps:
            for action in (step.action, step.compensation):
                if action is None:
                    continue
                reply_types.update(action.succeeded, action.failed)
        for reply_type in reply_types:
            self.requests.on_reply(reply_type)(self._answered)
        # The saga builds its commands at run time, so it cannot name their types: it takes every
        # timeout of this service's requests that no other handler claims.
        self.requests.on_any_timeout(self._timed_out)

    async def _answered(self, handling: Handling, reply: Reply, request: PendingRequest) -> None:
        session = handling.session
        instance = await self._load(session, request.correlation_id)
        if instance is None or instance.request_id != request.id:
            log.info("answer to a command no saga awaits; ignored", request_id=request.id, reply=reply.message_type)
            return
        step = self.saga.steps[instance.step_index]
        compensating = instance.state is SagaState.COMPENSATING
        action = step.compensation if compensating else step.action
        assert action is not None
        if isinstance(reply, action.succeeded):
            await self._succeeded(session, instance, reply)
        elif isinstance(reply, action.failed):
            await self._failed(session, instance, reply, detail=reply.message_type)
        else:
            raise TypeError(f"{reply.message_type} does not answer {step.name} of saga {self.saga.name}")
        await self._save(session, instance)

    async def _timed_out(self, handling: Handling, request: PendingRequest) -> None:
        session = handling.session
        instance = await self._load(session, request.correlation_id)
        if instance is None or instance.request_id != request.id:
            return
        step = self.saga.steps[instance.step_index]
        name = self._name(instance)
        kind = "compensation" if instance.state is SagaState.COMPENSATING else "action"
        self._note(instance, name, kind, "timed_out", f"no answer by the deadline (attempt {instance.attempt})")
        instance.request_id = instance.changes["request_id"] = None
        if kind == "compensation" or self.saga.past_pivot(instance.step_index):
            await self._wait_and_retry(session, instance, "unanswered")
        elif instance.cancel_requested:
            await self._compensate_from(session, instance, instance.step_index)
        elif instance.attempt < step.attempts:
            self._set(instance, attempt=instance.attempt + 1)
            await self._send(session, instance)
        else:
            await self._tell(
                session, instance, "action", "timed_out", None, f"unanswered after {step.attempts} attempts"
            )
            # Unanswered is not undone: the partner may have done it and not said so yet.
            await self._compensate_from(session, instance, instance.step_index)
        await self._save(session, instance)

    async def _succeeded(self, session: AsyncSession, instance: _Instance, reply: Reply) -> None:
        name = self._name(instance)
        if instance.state is SagaState.COMPENSATING:
            self._note(instance, name, "compensation", "succeeded", reply.message_type)
            await self._tell(session, instance, "compensation", "succeeded", reply, None)
            await self._compensate_from(session, instance, instance.step_index - 1)
            return
        self._note(instance, name, "action", "succeeded", reply.message_type)
        instance.request_id = instance.changes["request_id"] = None
        await self._tell(session, instance, "action", "succeeded", reply, None)
        if instance.cancel_requested:
            await self._compensate_from(session, instance, instance.step_index)
        elif instance.step_index == len(self.saga.steps) - 1:
            self._set(instance, state=SagaState.COMPLETED)
            self._note(instance, name, "saga", "completed", None)
            await self._tell(session, instance, "saga", "completed", None, None)
        else:
            self._set(instance, step_index=instance.step_index + 1, attempt=1)
            await self._send(session, instance)

    async def _failed(self, session: AsyncSession, instance: _Instance, reply: Reply, *, detail: str) -> None:
        name = self._name(instance)
        kind = "compensation" if instance.state is SagaState.COMPENSATING else "action"
        self._note(instance, name, kind, "failed", detail)
        instance.request_id = instance.changes["request_id"] = None
        await self._tell(session, instance, kind, "failed", reply, detail)
        if kind == "compensation" or self.saga.past_pivot(instance.step_index):
            await self._wait_and_retry(session, instance, f"refused ({detail})")
            return
        # A refusal means the step did nothing: compensate the ones before it.
        await self._compensate_from(session, instance, instance.step_index - 1)

    # -- moving on ----------------------------------------------------------------------------------

    async def _compensate_from(self, session: AsyncSession, instance: _Instance, index: int) -> None:
        """Compensate the steps from ``index`` down, the next one with a compensation first."""
        while index >= 0 and self.saga.steps[index].compensation is None:
            index -= 1
        instance.request_id = instance.changes["request_id"] = None
        if index < 0:
            self._set(instance, state=SagaState.COMPENSATED, step_index=0)
            self._note(instance, self.saga.steps[0].name, "saga", "compensated", None)
            await self._tell(session, instance, "saga", "compensated", None, None)
            return
        if instance.state is not SagaState.COMPENSATING:
            self._note(instance, self.saga.steps[index].name, "saga", "compensating", None)
        self._set(instance, state=SagaState.COMPENSATING, step_index=index, attempt=1)
        await self._send(session, instance)

    async def _wait_and_retry(self, session: AsyncSession, instance: _Instance, why: str) -> None:
        """Try the step in hand again after a backoff, or ask for a person after its attempts."""
        step = self.saga.steps[instance.step_index]
        limit = self.saga.compensation_attempts if instance.state is SagaState.COMPENSATING else step.attempts
        name = self._name(instance)
        if instance.attempt >= limit:
            what = f"the compensation of {name}" if instance.state is SagaState.COMPENSATING else name
            reason = f"{what} {why} after {instance.attempt} attempts"
            self._set(instance, needs_attention=True, reason=reason, wake_at_ms=None)
            self._note(instance, name, "saga", "needs_attention", reason)
            await self._tell(session, instance, "saga", "needs_attention", None, reason)
            return
        delay = self.backoff(instance.attempt)
        self._set(instance, attempt=instance.attempt + 1, wake_at_ms=_now_ms() + delay)
        self._note(instance, name, "saga", "retrying", f"{why}; again in {delay} ms")

    async def _send(self, session: AsyncSession, instance: _Instance) -> None:
        step = self.saga.steps[instance.step_index]
        compensating = instance.state is SagaState.COMPENSATING
        action = step.compensation if compensating else step.action
        assert action is not None
        context = StepContext(session=session, saga_id=instance.id, data=instance.data, attempt=instance.attempt)
        command = await action.command(context)
        envelope = await self.requests.send(
            session, command, subject=action.subject, deadline=action.deadline, correlation_id=instance.id
        )
        self._set(instance, request_id=envelope.id, step=self._name(instance))
        kind = "compensation" if compensating else "action"
        self._note(
            instance,
            self._name(instance),
            kind,
            "sent",
            f"{command.message_type} (attempt {instance.attempt})",
        )

    # -- persistence --------------------------------------------------------------------------------

    def _name(self, instance: _Instance) -> str:
        step = self.saga.steps[instance.step_index]
        return step.name

    @staticmethod
    def _set(instance: _Instance, **values: Any) -> None:
        for key, value in values.items():
            if key in ("state", "step_index", "attempt", "request_id", "cancel_requested", "needs_attention"):
                setattr(instance, key, value)
            instance.changes[key] = value.value if isinstance(value, SagaState) else value

    async def _load(self, session: AsyncSession, saga_id: str) -> _Instance | None:
        row = (await session.execute(self._load_saga, {"saga_id": saga_id})).mappings().first()
        if row is None:
            return None
        return _Instance(
            id=row["id"],
            state=SagaState(row["state"]),
            step_index=row["step_index"],
            attempt=row["attempt"],
            request_id=row["request_id"],
            cancel_requested=row["cancel_requested"],
            needs_attention=row["needs_attention"],
            data=row["data"],
            wake_at_ms=row["wake_at_ms"],
        )

    async def _save(self, session: AsyncSession, instance: _Instance) -> None:
        """Write the instance's changes and its new timeline rows: one statement each."""
        if "step_index" in instance.changes:
            instance.changes.setdefault("step", self._name(instance))
        instance.changes["updated_at"] = datetime.now(UTC)
        if instance.changes.get("state") in (SagaState.COMPLETED.value, SagaState.COMPENSATED.value):
            instance.changes["finished_at"] = instance.changes["updated_at"]
        # The SET clause is the changed columns: the statement is compiled once per set of them.
        await session.execute(self._update_saga, {"saga_id": instance.id, **instance.changes})
        instance.changes = {}
        await self._write_notes(session, instance)

    async def _write_notes(self, session: AsyncSession, instance: _Instance) -> None:
        if instance.notes:
            await session.execute(self._insert_notes, instance.notes)
            instance.notes = []

    @staticmethod
    def _note(instance: _Instance, step: str, kind: str, outcome: str, detail: str | None) -> None:
        """Add a row to the saga's timeline, written by the next ``_save`` (in the same transaction)."""
        instance.notes.append(
            {
                "saga_id": instance.id,
                "at": datetime.now(UTC),
                "step": step,
                "kind": kind,
                "attempt": instance.attempt,
                "outcome": outcome,
                "detail": detail,
            }
        )

    async def _tell(
        self,
        session: AsyncSession,
        instance: _Instance,
        kind: str,
        outcome: str,
        reply: Reply | None,
        detail: str | None,
    ) -> None:
        if self.on_change is None:
            return
        change = SagaChange(
            saga_id=instance.id,
            data=instance.data,
            step=self._name(instance),
            kind=kind,
            outcome=outcome,
            state=instance.state,
            reply=reply,
            detail=detail,
        )
        await self.on_change(session, change)


async def retry_saga(session: AsyncSession, tables: SagaTables, saga_id: str) -> bool:
    """Re-drive a saga that needs attention (``paved sagas retry``): due now, its attempts counted afresh.

    The service's orchestrator sends the step in hand again when it next looks for due sagas.
    """
    now = datetime.now(UTC)
    moved = await session.execute(
        update(tables.sagas)
        .where(tables.sagas.c.id == saga_id, tables.sagas.c.needs_attention.is_(True))
        .values(needs_attention=False, reason=None, attempt=1, wake_at_ms=_now_ms(), request_id=None, updated_at=now)
        .returning(tables.sagas.c.step)
    )
    step = moved.scalar_one_or_none()
    if step is None:
        return False
    await session.execute(
        insert(tables.log).values(
            saga_id=saga_id,
            at=now,
            step=step,
            kind="saga",
            attempt=1,
            outcome="retried",
            detail="re-driven by a person",
        )
    )
    return True
