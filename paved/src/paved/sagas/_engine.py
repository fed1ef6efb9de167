"""The rules of an orchestrated saga, as pure decisions: no broker, no database, no clock.

Given an instance and one answer (a reply, a timeout, a cancellation, a wake-up, a person's re-drive),
the engine returns a ``Decision``: the instance as it is to be recorded and the effects to carry out, in
order (timeline entries, changes to tell the service, the command to send). The orchestrator carries
them out in the transaction that took the answer.

The rules, from the saga literature:

- Before the pivot, a step that fails (a refusal) makes the saga compensate the steps done, in reverse
  order. A step that stays unanswered after its attempts is compensated too: unanswered is not undone,
  so compensations must accept "nothing to undo".
- The pivot is the step after which the saga only goes forward: once it succeeded, a later step that
  fails or stays unanswered is retried with backoff, and after ``attempts`` the saga needs attention.
- A compensation is retried with backoff until it succeeds; after ``compensation_attempts`` the saga
  needs attention. A saga that needs attention waits for a person (``paved sagas retry``), and is
  re-driven from where it stopped, its attempts counted afresh.
- A cancellation before the pivot succeeded wins: the saga waits for the answer to the step in hand,
  then compensates what was done (including the pivot, if it succeeded meanwhile). After the pivot, or
  once ended, a cancellation is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from paved.messaging._contracts import Reply
from paved.sagas._definition import Saga
from paved.sagas._state import (
    FINAL,
    ChangeKind,
    Outcome,
    SagaChange,
    SagaInstance,
    SagaNotCancellableError,
    SagaState,
)


def backoff_ms(attempt: int, *, base_ms: int = 500, cap_ms: int = 30_000) -> int:
    """How long to wait before trying again after ``attempt`` tries: doubling, capped."""
    return int(min(base_ms * 2 ** max(attempt - 1, 0), cap_ms))


@dataclass(frozen=True)
class Note:
    """A timeline entry to write (``paved_saga_log``)."""

    step: str
    kind: ChangeKind
    outcome: Outcome
    attempt: int
    detail: str | None = None


@dataclass(frozen=True)
class Send:
    """Send the action (or compensation) of a step; the saga then awaits the answer to what was sent."""

    step: str
    step_index: int
    kind: ChangeKind  # action | compensation
    attempt: int


Effect = Note | SagaChange | Send


@dataclass(frozen=True)
class Decision:
    """The instance to record, and what to do, in order, in the same transaction."""

    instance: SagaInstance
    effects: tuple[Effect, ...]

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(e for e in self.effects if isinstance(e, Note))

    @property
    def changes(self) -> tuple[SagaChange, ...]:
        return tuple(e for e in self.effects if isinstance(e, SagaChange))

    @property
    def sends(self) -> tuple[Send, ...]:
        return tuple(e for e in self.effects if isinstance(e, Send))


class _Plan:
    """A decision being made: the instance as it moves, and the effects in the order they arose."""

    def __init__(self, saga: Saga, instance: SagaInstance) -> None:
        self.saga = saga
        self.instance = instance
        self.effects: list[Effect] = []

    @property
    def step(self) -> str:
        return self.saga.steps[self.instance.step_index].name

    @property
    def compensating(self) -> bool:
        return self.instance.state is SagaState.COMPENSATING

    @property
    def kind(self) -> ChangeKind:
        return ChangeKind.COMPENSATION if self.compensating else ChangeKind.ACTION

    def set(self, **values: Any) -> None:
        self.instance = replace(self.instance, **values)

    def note(self, kind: ChangeKind, outcome: Outcome, detail: str | None = None, *, step: str | None = None) -> None:
        self.effects.append(Note(step or self.step, kind, outcome, self.instance.attempt, detail))

    def tell(self, kind: ChangeKind, outcome: Outcome, reply: Reply | None = None, detail: str | None = None) -> None:
        i = self.instance
        self.effects.append(SagaChange(i.id, i.data, self.step, kind, outcome, i.state, reply, detail))

    def send(self) -> None:
        i = self.instance
        self.effects.append(Send(self.step, i.step_index, self.kind, i.attempt))

    def decision(self) -> Decision:
        return Decision(self.instance, tuple(self.effects))


class SagaEngine:
    """Applies the rules to the instances of one saga (see the module's docstring)."""

    def __init__(self, saga: Saga, *, backoff: Callable[[int], int] = backoff_ms) -> None:
        self.saga = saga
        self.backoff = backoff

    def start(self, saga_id: str, data: dict[str, Any]) -> Decision:
        """A new instance, sending its first step."""
        instance = SagaInstance(saga_id, self.saga.name, SagaState.RUNNING, step_index=0, attempt=1, data=data)
        plan = _Plan(self.saga, instance)
        plan.note(ChangeKind.SAGA, Outcome.STARTED)
        plan.send()
        return plan.decision()

    def replied(self, instance: SagaInstance, *, request_id: str, reply: Reply, now_ms: int) -> Decision | None:
        """A reply to ``request_id``; None if the saga no longer awaits it (it timed out, or was re-driven)."""
        if instance.request_id != request_id:
            return None
        plan = _Plan(self.saga, instance)
        action = self.saga.action(instance.step_index, compensation=plan.compensating)
        if isinstance(reply, action.succeeded):
            self._succeeded(plan, reply)
        elif isinstance(reply, action.failed):
            self._failed(plan, reply, now_ms=now_ms)
        else:
            raise TypeError(f"{reply.message_type} does not answer {plan.step} of saga {self.saga.name}")
        return plan.decision()

    def timed_out(self, instance: SagaInstance, *, request_id: str, now_ms: int) -> Decision | None:
        """No answer to ``request_id`` by its deadline; None if the saga no longer awaits it."""
        if instance.request_id != request_id:
            return None
        plan = _Plan(self.saga, instance)
        step = self.saga.steps[instance.step_index]
        plan.note(plan.kind, Outcome.TIMED_OUT, f"no answer by the deadline (attempt {instance.attempt})")
        plan.set(request_id=None)
        if plan.compensating or self.saga.past_pivot(instance.step_index):
            self._wait_and_retry(plan, "unanswered", now_ms=now_ms)
        elif instance.cancel_requested:
            self._compensate_from(plan, instance.step_index)
        elif instance.attempt < step.attempts:
            plan.set(attempt=instance.attempt + 1)
            plan.send()
        else:
            plan.tell(ChangeKind.ACTION, Outcome.TIMED_OUT, detail=f"unanswered after {step.attempts} attempts")
            # Unanswered is not undone: the partner may have done it and not said so yet.
            self._compensate_from(plan, instance.step_index)
        return plan.decision()

    def cancel(self, instance: SagaInstance, *, reason: str) -> Decision | None:
        """Ask the saga to undo what it did; None if it is already undoing, or about to."""
        if instance.state in FINAL or (
            instance.state is SagaState.RUNNING and self.saga.past_pivot(instance.step_index)
        ):
            raise SagaNotCancellableError(f"saga {instance.id} is past its pivot or ended: it can only go forward")
        if instance.state is SagaState.COMPENSATING or instance.cancel_requested:
            return None
        plan = _Plan(self.saga, instance)
        plan.set(cancel_requested=True)
        plan.note(ChangeKind.SAGA, Outcome.CANCEL_REQUESTED, reason)
        return plan.decision()

    def wake(self, instance: SagaInstance, *, now_ms: int) -> Decision | None:
        """Send the step in hand again once its wait is over; None if it is not due."""
        if instance.needs_attention or instance.state in FINAL:
            return None
        if instance.wake_at_ms is None or instance.wake_at_ms > now_ms:
            return None  # not waiting, or not yet (another instance of the service may have woken it)
        plan = _Plan(self.saga, instance)
        plan.set(wake_at_ms=None)
        plan.send()
        return plan.decision()

    # -- moving on ----------------------------------------------------------------------------------

    def _succeeded(self, plan: _Plan, reply: Reply) -> None:
        if plan.compensating:
            plan.note(ChangeKind.COMPENSATION, Outcome.SUCCEEDED, reply.message_type)
            plan.tell(ChangeKind.COMPENSATION, Outcome.SUCCEEDED, reply)
            self._compensate_from(plan, plan.instance.step_index - 1)
            return
        plan.note(ChangeKind.ACTION, Outcome.SUCCEEDED, reply.message_type)
        plan.set(request_id=None)
        plan.tell(ChangeKind.ACTION, Outcome.SUCCEEDED, reply)
        index = plan.instance.step_index
        if plan.instance.cancel_requested:
            self._compensate_from(plan, index)  # what just succeeded is undone too
        elif index == len(self.saga.steps) - 1:
            plan.set(state=SagaState.COMPLETED)
            plan.note(ChangeKind.SAGA, Outcome.COMPLETED)
            plan.tell(ChangeKind.SAGA, Outcome.COMPLETED)
        else:
            plan.set(step_index=index + 1, attempt=1)
            plan.send()

    def _failed(self, plan: _Plan, reply: Reply, *, now_ms: int) -> None:
        detail = reply.message_type
        kind = plan.kind
        plan.note(kind, Outcome.FAILED, detail)
        plan.set(request_id=None)
        plan.tell(kind, Outcome.FAILED, reply, detail)
        if plan.compensating or self.saga.past_pivot(plan.instance.step_index):
            self._wait_and_retry(plan, f"refused ({detail})", now_ms=now_ms)
        else:
            # A refusal means the step did nothing: compensate the ones before it.
            self._compensate_from(plan, plan.instance.step_index - 1)

    def _compensate_from(self, plan: _Plan, index: int) -> None:
        """Compensate the steps from ``index`` down, the next one with a compensation first."""
        steps = self.saga.steps
        while index >= 0 and steps[index].compensation is None:
            index -= 1
        plan.set(request_id=None)
        if index < 0:
            plan.set(state=SagaState.COMPENSATED, step_index=0)
            plan.note(ChangeKind.SAGA, Outcome.COMPENSATED)
            plan.tell(ChangeKind.SAGA, Outcome.COMPENSATED)
            return
        if not plan.compensating:
            plan.note(ChangeKind.SAGA, Outcome.COMPENSATING, step=steps[index].name)
        plan.set(state=SagaState.COMPENSATING, step_index=index, attempt=1)
        plan.send()

    def _wait_and_retry(self, plan: _Plan, why: str, *, now_ms: int) -> None:
        """Try the step in hand again after a backoff, or ask for a person after its attempts."""
        attempt = plan.instance.attempt
        step = self.saga.steps[plan.instance.step_index]
        limit = self.saga.compensation_attempts if plan.compensating else step.attempts
        if attempt >= limit:
            what = f"the compensation of {step.name}" if plan.compensating else step.name
            reason = f"{what} {why} after {attempt} attempts"
            plan.set(needs_attention=True, reason=reason, wake_at_ms=None)
            plan.note(ChangeKind.SAGA, Outcome.NEEDS_ATTENTION, reason)
            plan.tell(ChangeKind.SAGA, Outcome.NEEDS_ATTENTION, detail=reason)
            return
        delay = self.backoff(attempt)
        plan.set(attempt=attempt + 1, wake_at_ms=now_ms + delay)
        plan.note(ChangeKind.SAGA, Outcome.RETRYING, f"{why}; again in {delay} ms")


def redrive(instance: SagaInstance, *, step: str, now_ms: int) -> Decision | None:
    """A person re-drives a saga that needs attention: due now, its attempts counted afresh; None if it needs none.

    It needs no declaration (``paved sagas retry`` has none): ``step`` is the name of the step in hand, as
    stored; the service's orchestrator sends that step again when it next wakes due sagas.
    """
    if not instance.needs_attention:
        return None
    moved = replace(instance, needs_attention=False, reason=None, attempt=1, wake_at_ms=now_ms, request_id=None)
    note = Note(step, ChangeKind.SAGA, Outcome.RETRIED, attempt=1, detail="re-driven by a person")
    return Decision(moved, (note,))
