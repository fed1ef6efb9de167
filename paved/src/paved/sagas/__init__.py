"""Sagas: business processes across services without distributed transactions, in both styles.

- Orchestrated: a service declares a ``Saga`` (steps in order, one of them the pivot) and runs it with its
  ``Orchestration``, which may run several sagas side by side; ``orchestrate(saga)`` gives the saga's
  ``Orchestrator``, which starts and cancels instances. The rules live in a pure engine.
- Choreographed (``SagaView``): services react to each other's events; paved assembles each process's
  events, by correlation id, into a timeline and a state, so it can be watched like an orchestrated one.

Both keep their instances in ``paved_sagas`` (``saga_tables``), which ``paved sagas`` reads
(``paved.sagas._inspection``).
"""

from paved.sagas._choreography import Milestone, SagaView
from paved.sagas._definition import Action, BuildCommand, Saga, SagaDefinitionError, SagaStep, StepContext
from paved.sagas._engine import backoff_ms
from paved.sagas._inspection import SagaStore, SagaSummary, TimelineEntry
from paved.sagas._orchestrator import OnChange, Orchestration, Orchestrator, retry_saga
from paved.sagas._state import (
    ChangeKind,
    Outcome,
    SagaChange,
    SagaNotCancellableError,
    SagaNotFoundError,
    SagaState,
)
from paved.sagas._tables import SagaTables, create_saga_tables, drop_saga_tables, saga_tables

__all__ = [
    "Action",
    "BuildCommand",
    "ChangeKind",
    "Milestone",
    "OnChange",
    "Orchestration",
    "Orchestrator",
    "Outcome",
    "Saga",
    "SagaChange",
    "SagaDefinitionError",
    "SagaNotCancellableError",
    "SagaNotFoundError",
    "SagaState",
    "SagaStep",
    "SagaStore",
    "SagaSummary",
    "SagaTables",
    "SagaView",
    "StepContext",
    "TimelineEntry",
    "backoff_ms",
    "create_saga_tables",
    "drop_saga_tables",
    "retry_saga",
    "saga_tables",
]
