"""A saga's declaration: its name and its steps in order, each a command with a deadline and a compensation.

    fulfilment = Saga(
        "fulfilment",
        SagaStep("reserve_stock", reserve, compensation=release),
        SagaStep("take_payment", take_payment, compensation=refund, pivot=True),
        SagaStep("award_points", award),
        SagaStep("dispatch", dispatch),
    )

Plain data: it says what to send and how often, not how; the engine (``_engine``) applies the rules to it
and the orchestrator (``_orchestrator``) sends what the engine decided.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from paved.messaging._contracts import Command, Reply


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
    """A command to send (on its own subject), and which replies mean it was done or refused.

    A reply of a type in neither list is a partner's bug: it fails the handler, so the reply is
    retried and then parked, and the request's deadline decides.
    """

    command: BuildCommand
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
    """A saga declared, or registered, in a way the orchestrator could not run."""


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

    def action(self, index: int, *, compensation: bool) -> Action:
        """The action of step ``index``, or its compensation (which the engine only asks of steps that have one)."""
        step = self.steps[index]
        action = step.compensation if compensation else step.action
        if action is None:
            raise SagaDefinitionError(f"step {step.name} of saga {self.name!r} has no compensation")
        return action

    def reply_types(self) -> frozenset[type[Reply]]:
        """Every reply type some action or compensation of this saga awaits."""
        actions = [a for step in self.steps for a in (step.action, step.compensation) if a is not None]
        return frozenset(t for action in actions for t in (*action.succeeded, *action.failed))
