"""In-memory stand-ins for the payment service's ports, shared by the unit tests.

The fake store keeps copies, as a database does: a change reaches it only through ``add`` or ``save``, so
a use case that forgets to save is caught; ``FakeUnitOfWork.write()`` rolls everything back when the block
raises. The fake processor keeps charges by idempotency key, as a real one does, and misbehaves on cue.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from paved import Asker
from paved.messaging import Announce

from payment.cards import CardNumber, CardUnreadableError
from payment.choreography.domain import Choreography
from payment.domain import HistoryEntry, Payment
from payment.facts import Fact, RefundOutcome, TakeOutcome
from payment.money import Money
from payment.ports import Question
from payment.results import (
    Charged,
    ChargeResult,
    ChargesFound,
    Declined,
    FoundCharge,
    LookUpResult,
    NoAnswer,
    RefundMade,
    RefundResult,
    Refused,
)

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GOOD_CARD = CardNumber("4242424242424242")
DECLINED_CARD = CardNumber("4000000000000002")


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ProviderCharge:
    charge_id: str
    key: str
    amount: Money
    card_last4: str
    reference: str
    declined: bool
    refunds: dict[str, Money] = field(default_factory=dict)


class FakeProvider:
    """A card processor in memory: one charge per idempotency key, and the misbehaviour it is told to show.

    ``misbehave(result, times=n)`` answers the next ``n`` calls with ``result`` instead. A ``NoAnswer`` with
    ``maybe_done=True`` is a timeout: the call is carried out, and its answer lost.
    """

    def __init__(self, *, declined: frozenset[str] = frozenset({DECLINED_CARD.digits})) -> None:
        self.declined = declined
        self.charges: dict[str, ProviderCharge] = {}
        self.calls: list[str] = []
        self._faults: list[NoAnswer | Refused] = []
        self._ids = itertools.count(1)

    def misbehave(self, result: NoAnswer | Refused, *, times: int = 1) -> None:
        self._faults.extend([result] * times)

    def _fault(self) -> NoAnswer | Refused | None:
        return self._faults.pop(0) if self._faults else None

    async def charge(self, *, idempotency_key: str, amount: Money, card: CardNumber, reference: str) -> ChargeResult:
        self.calls.append(f"charge {idempotency_key}")
        fault = self._fault()
        if fault is not None and not (isinstance(fault, NoAnswer) and fault.maybe_done):
            return fault
        charge = self.charges.get(idempotency_key)
        if charge is None:
            charge = ProviderCharge(
                f"ch_{next(self._ids)}", idempotency_key, amount, card.last4, reference, card.digits in self.declined
            )
            self.charges[idempotency_key] = charge
        if fault is not None:
            return fault  # carried out, and the answer lost
        return Declined(charge.charge_id, "card_declined") if charge.declined else Charged(charge.charge_id)

    async def refund(self, *, charge_id: str, idempotency_key: str, amount: Money) -> RefundResult:
        self.calls.append(f"refund {idempotency_key}")
        fault = self._fault()
        if fault is not None and not (isinstance(fault, NoAnswer) and fault.maybe_done):
            return fault
        charge = next(c for c in self.charges.values() if c.charge_id == charge_id)
        charge.refunds.setdefault(idempotency_key, amount)
        return fault if fault is not None else RefundMade(f"re_{charge_id}_{idempotency_key}")

    async def charges_for(self, reference: str) -> LookUpResult:
        self.calls.append(f"look up {reference}")
        fault = self._fault()
        if fault is not None:
            return fault
        found = (FoundCharge(c.charge_id, not c.declined) for c in self.charges.values() if c.reference == reference)
        return ChargesFound(tuple(found))

    def charges_made(self) -> int:
        return len(self.charges)

    def refunded(self, reference: str) -> int:
        """Minor units given back from the charges made under ``reference``."""
        return sum(
            m.amount_minor for c in self.charges.values() if c.reference == reference for m in c.refunds.values()
        )


class FakeVault:
    """Keeps card numbers in memory and hands out tokens that say nothing about them."""

    def __init__(self) -> None:
        self._cards: dict[bytes, tuple[str, CardNumber]] = {}

    def seal(self, card: CardNumber, *, order_id: str) -> bytes:
        token = f"sealed-{len(self._cards)}".encode()
        self._cards[token] = (order_id, card)
        return token

    def open(self, sealed: bytes, *, order_id: str) -> CardNumber:
        sealed_for, card = self._cards.get(sealed, ("", None))
        if card is None or sealed_for != order_id:
            raise CardUnreadableError("not sealed for this order")
        return card


@dataclass
class Reply:
    asker: Asker
    outcome: TakeOutcome | RefundOutcome


class FakePayments:
    def __init__(self) -> None:
        self.rows: dict[str, Payment] = {}
        self.history: list[tuple[str, HistoryEntry]] = []

    async def find(self, order_id: str) -> Payment | None:
        row = self.rows.get(order_id)
        return None if row is None else replace(row, changes=[], facts=[])

    async def add(self, payment: Payment) -> None:
        assert payment.order_id not in self.rows, "the order id is the primary key"
        await self.save(payment)

    async def save(self, payment: Payment) -> None:
        self.history.extend((payment.order_id, entry) for entry in payment.changes)
        payment.changes.clear()
        self.rows[payment.order_id] = replace(payment, changes=[], facts=[])

    async def due(self, *, at: datetime, limit: int) -> list[Payment]:
        due = sorted(
            (p for p in self.rows.values() if p.next_attempt_at is not None and p.next_attempt_at <= at),
            key=lambda p: p.next_attempt_at or at,
        )
        return [replace(p, changes=[], facts=[]) for p in due[:limit]]

    async def next_due(self) -> datetime | None:
        return min((p.next_attempt_at for p in self.rows.values() if p.next_attempt_at is not None), default=None)

    async def read(self, order_id: str) -> tuple[Payment, list[HistoryEntry]] | None:
        row = self.rows.get(order_id)
        if row is None:
            return None
        return replace(row, changes=[], facts=[]), [entry for paid, entry in self.history if paid == order_id]

    def notes(self, order_id: str) -> list[str]:
        return [entry.note for payment_id, entry in self.history if payment_id == order_id]


@dataclass
class AskerRow:
    order_id: str
    question: Question
    asker: Asker
    answered: bool = False


class FakeAskers:
    def __init__(self) -> None:
        self.rows: list[AskerRow] = []

    async def add(self, order_id: str, question: Question, asker: Asker) -> None:
        self.rows.append(AskerRow(order_id, question, asker))

    def _of(self, order_id: str, question: Question) -> list[AskerRow]:
        return [row for row in self.rows if (row.order_id, row.question) == (order_id, question)]

    async def waiting(self, order_id: str, question: Question) -> list[Asker]:
        return [row.asker for row in self._of(order_id, question) if not row.answered]

    async def mark_answered(self, order_id: str, question: Question, *, at: datetime) -> None:
        for row in self._of(order_id, question):
            row.answered = True

    async def first(self, order_id: str, question: Question) -> Asker | None:
        return next((row.asker for row in self._of(order_id, question)), None)


class FakeCancellations:
    def __init__(self) -> None:
        self.orders: dict[str, datetime] = {}

    async def add(self, order_id: str, *, at: datetime) -> None:
        self.orders.setdefault(order_id, at)

    async def contains(self, order_id: str) -> bool:
        return order_id in self.orders


class FakeChoreographies:
    def __init__(self) -> None:
        self.rows: dict[str, Choreography] = {}

    async def find(self, order_id: str) -> Choreography | None:
        row = self.rows.get(order_id)
        return None if row is None else replace(row)

    async def add(self, choreography: Choreography) -> None:
        assert choreography.order_id not in self.rows, "the order id is the primary key"
        self.rows[choreography.order_id] = replace(choreography)

    async def save(self, choreography: Choreography) -> None:
        assert choreography.order_id in self.rows, "saved before it was added"
        self.rows[choreography.order_id] = replace(choreography)


class FakeOutbox:
    """What the outbox would hold: the facts published as events (with their cause), and the replies sent to
    those who asked for one."""

    def __init__(self) -> None:
        self.published: list[tuple[Fact, Asker | None]] = []
        self.replies: list[Reply] = []

    def announce(self, *, caused_by: Asker | None) -> Announce[Fact]:
        async def publish(fact: Fact) -> None:
            self.published.append((fact, caused_by))

        return publish

    async def answer(self, asker: Asker, outcome: TakeOutcome | RefundOutcome) -> None:
        if asker.reply_to is not None:
            self.replies.append(Reply(asker, outcome))

    def replies_to(self, asker: Asker) -> list[TakeOutcome | RefundOutcome]:
        return [reply.outcome for reply in self.replies if reply.asker == asker]


@dataclass
class FakeStore:
    """What the database and the outbox would hold."""

    payments: FakePayments = field(default_factory=FakePayments)
    askers: FakeAskers = field(default_factory=FakeAskers)
    cancellations: FakeCancellations = field(default_factory=FakeCancellations)
    choreographies: FakeChoreographies = field(default_factory=FakeChoreographies)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)

    def announce(self, *, caused_by: Asker | None) -> Announce[Fact]:
        return self.outbox.announce(caused_by=caused_by)

    async def answer(self, asker: Asker, outcome: TakeOutcome | RefundOutcome) -> None:
        await self.outbox.answer(asker, outcome)


class FakeUnitOfWork:
    """Transactions over one FakeStore: a write that raises leaves the store as it was, as a rollback does.

    ``die_before_next_commit()`` makes the next write fail at its end, as a process killed mid-transaction.
    """

    def __init__(self) -> None:
        self.store = FakeStore()
        self._die = False

    def die_before_next_commit(self) -> None:
        self._die = True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeStore]:
        yield self.store

    @asynccontextmanager
    async def write(self) -> AsyncIterator[FakeStore]:
        before = copy.deepcopy(self.store)
        try:
            yield self.store
            if self._die:
                self._die = False
                raise ConnectionAbortedError("the process died before its transaction committed")
        except BaseException:
            self.store = before
            raise
