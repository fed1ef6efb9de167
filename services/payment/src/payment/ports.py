"""What the payment use cases need from the outside, as small Protocols.

``clients.py`` implements the card processor over HTTP, ``vault.py`` the card vault with AES-GCM,
``store.py`` the store over the database and the outbox (with ``announcements.py``'s events and
replies); the unit tests implement them in memory (tests/unit/fakes.py).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from paved import Asker
from paved.messaging import Announce

from payment.cards import CardNumber
from payment.choreography.domain import Choreography
from payment.domain import HistoryEntry, Payment
from payment.facts import Fact, RefundOutcome, TakeOutcome
from payment.money import Money
from payment.results import ChargeResult, LookUpResult, RefundResult


class Question(StrEnum):
    """What a command asked, and so which answer it waits for."""

    TAKE = "take"
    REFUND = "refund"


class PaymentProvider(Protocol):
    """The card processor. Every call returns what it answered; one without a definite answer is ``NoAnswer``."""

    async def charge(self, *, idempotency_key: str, amount: Money, card: CardNumber, reference: str) -> ChargeResult:
        """Charge the card; the same key returns the first charge instead of making a second."""
        ...

    async def refund(self, *, charge_id: str, idempotency_key: str, amount: Money) -> RefundResult:
        """Give ``amount`` of the charge back; the same key gives it back once."""
        ...

    async def charges_for(self, reference: str) -> LookUpResult:
        """The charges made under ``reference``, whatever became of the calls that made them."""
        ...


class CardVault(Protocol):
    """Keeps card numbers unreadable at rest: sealed for one order, opened only for that order."""

    def seal(self, card: CardNumber, *, order_id: str) -> bytes: ...

    def open(self, sealed: bytes, *, order_id: str) -> CardNumber:
        """The card number; raises ``CardUnreadableError`` if it was sealed with another key or order."""
        ...


class Payments(Protocol):
    async def find(self, order_id: str) -> Payment | None:
        """The order's payment, held for this transaction (no other writer changes it meanwhile)."""
        ...

    async def add(self, payment: Payment) -> None: ...

    async def save(self, payment: Payment) -> None:
        """Store the payment's state, and move its ``changes`` to its history."""
        ...

    async def due(self, *, at: datetime, limit: int) -> list[Payment]:
        """Payments with a step due at ``at``, held for this transaction; those another one holds are skipped."""
        ...

    async def next_due(self) -> datetime | None:
        """When the next step of any payment is due (perhaps already)."""
        ...

    async def read(self, order_id: str) -> tuple[Payment, list[HistoryEntry]] | None:
        """The order's payment and its whole history, oldest change first; for reading (nothing is held)."""
        ...


class Askers(Protocol):
    """The commands waiting for an answer about a payment (paved's ``Asker``: the command's id, correlation id,
    reply subject and ``traceparent``), kept because the answer is known long after the command's transaction."""

    async def add(self, order_id: str, question: Question, asker: Asker) -> None: ...

    async def waiting(self, order_id: str, question: Question) -> list[Asker]:
        """Those who asked ``question`` about the order and have not been answered yet."""
        ...

    async def mark_answered(self, order_id: str, question: Question, *, at: datetime) -> None: ...

    async def first(self, order_id: str, question: Question) -> Asker | None:
        """The first command that asked ``question`` about the order: what later facts are caused by."""
        ...


class Cancellations(Protocol):
    """Orders refunded before their payment was asked for: their payment is never to be taken."""

    async def add(self, order_id: str, *, at: datetime) -> None: ...

    async def contains(self, order_id: str) -> bool: ...


class Choreographies(Protocol):
    """What was heard of each order's choreographed fulfilment (see ``choreography/domain.py``)."""

    async def find(self, order_id: str) -> Choreography | None:
        """The order's, held for this transaction (no other writer changes it meanwhile)."""
        ...

    async def add(self, choreography: Choreography) -> None: ...

    async def save(self, choreography: Choreography) -> None: ...


class Store(Protocol):
    """The payment service's tables and outbox within one transaction."""

    @property
    def payments(self) -> Payments: ...

    @property
    def askers(self) -> Askers: ...

    @property
    def cancellations(self) -> Cancellations: ...

    @property
    def choreographies(self) -> Choreographies: ...

    def announce(self, *, caused_by: Asker | None) -> Announce[Fact]:
        """Publish facts as events, with the transaction, as following from ``caused_by`` (a new conversation if None)."""
        ...

    async def answer(self, asker: Asker, outcome: TakeOutcome | RefundOutcome) -> None:
        """Reply ``outcome`` to ``asker``, with the transaction, if it asked for a reply."""
        ...


class UnitOfWork(Protocol):
    """Transactions on the store: the worker opens them around, never across, calls to the processor."""

    def read(self) -> AbstractAsyncContextManager[Store]: ...

    def write(self) -> AbstractAsyncContextManager[Store]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...
