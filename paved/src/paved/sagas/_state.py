"""Where a saga instance is, and the words its timeline and its changes are told in.

The enums are ``StrEnum``: their values are the strings ``paved_sagas`` and ``paved_saga_log`` hold, which
services' migrations created and ``paved sagas`` reads, so they must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from paved.messaging._contracts import Reply


class SagaState(StrEnum):
    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"


FINAL = frozenset({SagaState.COMPLETED, SagaState.COMPENSATED})


class SagaStyle(StrEnum):
    ORCHESTRATED = "orchestrated"
    CHOREOGRAPHED = "choreographed"


class ChangeKind(StrEnum):
    """What a timeline entry or a change is about."""

    ACTION = "action"
    COMPENSATION = "compensation"
    SAGA = "saga"
    EVENT = "event"  # a choreography's event, seen by its saga view (never in a ``SagaChange``)


class Outcome(StrEnum):
    """What happened, in an orchestrated saga's timeline and in the changes it tells."""

    STARTED = "started"
    SENT = "sent"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    RETRYING = "retrying"
    RETRIED = "retried"  # re-driven by a person
    CANCEL_REQUESTED = "cancel_requested"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    NEEDS_ATTENTION = "needs_attention"


class SagaNotFoundError(LookupError):
    def __init__(self, saga_id: str) -> None:
        super().__init__(f"no saga {saga_id!r}")


class SagaNotCancellableError(Exception):
    """The saga went past its pivot, or ended: it can only go forward."""


@dataclass(frozen=True)
class SagaInstance:
    """One orchestrated saga instance, as ``paved_sagas`` keeps it (the name of its step is derived)."""

    id: str
    saga: str
    state: SagaState
    step_index: int
    attempt: int
    data: dict[str, Any]
    request_id: str | None = None  # the command whose answer it awaits, if any
    cancel_requested: bool = False
    needs_attention: bool = False
    reason: str | None = None  # why it needs attention
    wake_at_ms: int | None = None  # when a waiting saga sends again


@dataclass(frozen=True)
class SagaChange:
    """What just happened to a saga, for the service that runs it to update its own state.

    ``kind`` is an action, a compensation, or the saga itself; ``outcome`` is ``succeeded``, ``failed`` or
    ``timed_out`` (after the step's attempts) for a step, and ``completed``, ``compensated`` or
    ``needs_attention`` for the saga. ``state`` is the saga's at the moment it happened.
    """

    saga_id: str
    data: dict[str, Any]
    step: str
    kind: ChangeKind
    outcome: Outcome
    state: SagaState
    reply: Reply | None = None
    detail: str | None = None
