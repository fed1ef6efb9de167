"""Sagas: business processes across services without distributed transactions, in both styles.

- Orchestrated (``Orchestrator``): one service declares the steps and drives them with commands.
- Choreographed (``SagaView``): services react to each other's events; paved assembles each process's
  events, by correlation id, into a timeline and a state, so it can be watched like an orchestrated one.

Both keep their instances in ``paved_sagas`` (``saga_tables``), which ``paved sagas`` reads.
"""

from paved.sagas.choreography import Milestone, SagaView
from paved.sagas.orchestration import (
    Action,
    Orchestrator,
    Saga,
    SagaChange,
    SagaDefinitionError,
    SagaNotCancellableError,
    SagaNotFoundError,
    SagaState,
    SagaStep,
    StepContext,
    retry_saga,
)
from paved.sagas.tables import SagaTables, create_saga_tables, drop_saga_tables, saga_tables

__all__ = [
    "Action",
    "Milestone",
    "Orchestrator",
    "Saga",
    "SagaChange",
    "SagaDefinitionError",
    "SagaNotCancellableError",
    "SagaNotFoundError",
    "SagaState",
    "SagaStep",
    "SagaTables",
    "SagaView",
    "StepContext",
    "create_saga_tables",
    "drop_saga_tables",
    "retry_saga",
    "saga_tables",
]
