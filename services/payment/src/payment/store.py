"""The repositories that map the payment service's tables onto payments, and its unit of work: all its SQL
(with ``choreography/store.py``, the choreography's repository, which the unit of work composes in).

Nobody else reads these tables. A card number is only ever stored sealed (``payments.sealed_card``, and
``payment_choreographies.sealed_card`` while a choreographed order waits for its stock; see ``vault.py``),
and only while a charge may still have to be sent; the history keeps every change of every payment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from paved import Asker, Clock, Database
from paved.messaging import Announce, Announcer, MessageWriter
from sqlalchemy import Integer, bindparam, event, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from payment.announcements import event_of, reply_of
from payment.choreography.store import ChoreographyRepository
from payment.domain import HistoryEntry, Payment, PaymentStatus
from payment.facts import Fact, RefundOutcome, TakeOutcome
from payment.money import Money
from payment.ports import Question
from payment.tables import (
    payment_askers,
    payment_cancellations,
    payment_history,
    payments,
)

# The columns a payment changes; the others are written once, when it is asked for.
_STATE = (
    "status", "sealed_card", "charge_id", "decline_code", "failure_reason", "refund_id", "refund_requested",
    "unresolved", "attempts", "next_attempt_at", "updated_at", "decided_at", "refunded_at",
)  # fmt: skip


def _to_payment(row: RowMapping) -> Payment:
    return Payment(
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        amount=Money(row["amount_minor"], row["currency"]),
        card_last4=row["card_last4"],
        requested_at=row["requested_at"],
        **{name: row[name] for name in _STATE if name != "status"},
        status=PaymentStatus(row["status"]),
    )


def _state_of(payment: Payment) -> dict[str, Any]:
    return {name: getattr(payment, name) for name in _STATE} | {"status": payment.status.value}


# The statements run per message and per payment step, built once: building a statement per call cost ~25% of
# the service's CPU under load (bench/README.md issue 5). Each is run with its bindparam()s' values. An UPDATE's
# own parameters are not named after a column: SQLAlchemy would take a column's name for a SET value.

# FOR UPDATE holds the row on PostgreSQL; on SQLite the transaction holds the only write lock.
_FIND_PAYMENT = select(payments).where(payments.c.order_id == bindparam("order_id")).with_for_update()
_ADD_PAYMENT = insert(payments)
# The SET clause is the columns of the parameters besides ``order_key``: the payment's state.
_SAVE_PAYMENT = update(payments).where(payments.c.order_id == bindparam("order_key"))
_ADD_HISTORY = insert(payment_history)
_DUE_PAYMENTS = (
    select(payments)
    .where(payments.c.next_attempt_at <= bindparam("at"))
    .order_by(payments.c.next_attempt_at)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)  # another instance's claim in progress: leave those to it
)
_NEXT_DUE = select(func.min(payments.c.next_attempt_at))
_READ_PAYMENT = select(payments).where(payments.c.order_id == bindparam("order_id"))
_READ_HISTORY = (
    select(payment_history).where(payment_history.c.order_id == bindparam("order_id")).order_by(payment_history.c.id)
)


class PaymentRepository:
    """Payments and their history in the caller's transaction (the ``Payments`` port)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, order_id: str) -> Payment | None:
        row = (await self.session.execute(_FIND_PAYMENT, {"order_id": order_id})).mappings().first()
        return None if row is None else _to_payment(row)

    async def add(self, payment: Payment) -> None:
        row = {
            "order_id": payment.order_id,
            "customer_id": payment.customer_id,
            "amount_minor": payment.amount.amount_minor,
            "currency": payment.amount.currency,
            "card_last4": payment.card_last4,
            "requested_at": payment.requested_at,
        }
        await self.session.execute(_ADD_PAYMENT, row | _state_of(payment))
        await self._move_changes(payment)

    async def save(self, payment: Payment) -> None:
        await self.session.execute(_SAVE_PAYMENT, {"order_key": payment.order_id} | _state_of(payment))
        await self._move_changes(payment)

    async def _move_changes(self, payment: Payment) -> None:
        if payment.changes:
            await self.session.execute(
                _ADD_HISTORY,
                [
                    {"order_id": payment.order_id, "at": e.at, "status": e.status.value, "note": e.note}
                    for e in payment.changes
                ],
            )
            payment.changes.clear()

    async def due(self, *, at: datetime, limit: int) -> list[Payment]:
        """The payments with a step due at ``at``, soonest first, skipping those another transaction holds."""
        rows = (await self.session.execute(_DUE_PAYMENTS, {"at": at, "limit": limit})).mappings()
        return [_to_payment(row) for row in rows]

    async def next_due(self) -> datetime | None:
        """When the next step of any payment is due."""
        due: datetime | None = (await self.session.execute(_NEXT_DUE)).scalar()
        return due

    async def read(self, order_id: str) -> tuple[Payment, list[HistoryEntry]] | None:
        """A payment and its whole history, oldest change first; for reading, not changing (nothing is held)."""
        row = (await self.session.execute(_READ_PAYMENT, {"order_id": order_id})).mappings().first()
        if row is None:
            return None
        history = (await self.session.execute(_READ_HISTORY, {"order_id": order_id})).mappings()
        return _to_payment(row), [HistoryEntry(r["at"], PaymentStatus(r["status"]), r["note"]) for r in history]


def _to_asker(row: RowMapping) -> Asker:
    # The column keeps its first name: the command's message id is the asker's id.
    return Asker(
        id=row["message_id"],
        correlation_id=row["correlation_id"],
        reply_to=row["reply_to"],
        traceparent=row["traceparent"],
    )


# The askers of one question about one order; its parameters are those ``_asking`` gives.
_ASKING = (payment_askers.c.order_id == bindparam("asked_order_id")) & (
    payment_askers.c.question == bindparam("asked_question")
)
_ADD_ASKER = insert(payment_askers)
_WAITING_ASKERS = (
    select(payment_askers).where(_ASKING, payment_askers.c.answered_at.is_(None)).order_by(payment_askers.c.asked_at)
)
_MARK_ANSWERED = (
    update(payment_askers).where(_ASKING, payment_askers.c.answered_at.is_(None)).values(answered_at=bindparam("at"))
)
_FIRST_ASKER = select(payment_askers).where(_ASKING).order_by(payment_askers.c.asked_at).limit(1)


def _asking(order_id: str, question: Question) -> dict[str, str]:
    return {"asked_order_id": order_id, "asked_question": question.value}


class AskerRepository:
    """The commands waiting for an answer about a payment (the ``Askers`` port)."""

    def __init__(self, session: AsyncSession, *, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def add(self, order_id: str, question: Question, asker: Asker) -> None:
        row = {
            "message_id": asker.id,
            "order_id": order_id,
            "question": question.value,
            "correlation_id": asker.correlation_id,
            "reply_to": asker.reply_to,
            "traceparent": asker.traceparent,
            "asked_at": self.clock(),
        }
        await self.session.execute(_ADD_ASKER, row)

    async def waiting(self, order_id: str, question: Question) -> list[Asker]:
        rows = (await self.session.execute(_WAITING_ASKERS, _asking(order_id, question))).mappings()
        return [_to_asker(row) for row in rows]

    async def mark_answered(self, order_id: str, question: Question, *, at: datetime) -> None:
        await self.session.execute(_MARK_ANSWERED, _asking(order_id, question) | {"at": at})

    async def first(self, order_id: str, question: Question) -> Asker | None:
        row = (await self.session.execute(_FIRST_ASKER, _asking(order_id, question))).mappings().first()
        return None if row is None else _to_asker(row)


_ADD_CANCELLATION = insert(payment_cancellations)
_IS_CANCELLED = select(payment_cancellations.c.order_id).where(
    payment_cancellations.c.order_id == bindparam("order_id")
)


class CancellationRepository:
    """Orders refunded before their payment was asked for (the ``Cancellations`` port)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order_id: str, *, at: datetime) -> None:
        if not await self.contains(order_id):
            await self.session.execute(_ADD_CANCELLATION, {"order_id": order_id, "cancelled_at": at})

    async def contains(self, order_id: str) -> bool:
        return (await self.session.execute(_IS_CANCELLED, {"order_id": order_id})).first() is not None


class DatabaseStore:
    """The payment service's tables and outbox in one session's transaction."""

    def __init__(self, session: AsyncSession, outbox: MessageWriter, *, clock: Clock) -> None:
        self.session = session
        self.outbox = outbox
        self.payments = PaymentRepository(session)
        self.askers = AskerRepository(session, clock=clock)
        self.cancellations = CancellationRepository(session)
        self.choreographies = ChoreographyRepository(session)

    def announce(self, *, caused_by: Asker | None) -> Announce[Fact]:
        """Facts as their events, written to the outbox with the transaction, following from ``caused_by``."""
        return Announcer(self.session, self.outbox, event_of=event_of, caused_by=caused_by)

    async def answer(self, asker: Asker, outcome: TakeOutcome | RefundOutcome) -> None:
        """The reply to ``asker``'s command, written to the outbox with the transaction, if it asked for one."""
        await self.outbox.reply(self.session, asker, reply_of(outcome))


class DatabaseUnitOfWork:
    """Transactions on the payment service's database."""

    def __init__(self, database: Database, outbox: MessageWriter, *, clock: Clock) -> None:
        self.database = database
        self.outbox = outbox
        self.clock = clock

    @asynccontextmanager
    async def read(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.read() as session:
            yield DatabaseStore(session, self.outbox, clock=self.clock)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.transaction() as session:
            yield DatabaseStore(session, self.outbox, clock=self.clock)


_AFTER_COMMIT = "payment.after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Call ``callback`` once ``session``'s transaction has committed (not if it rolls back); once per transaction."""
    callbacks: set[Callable[[], None]] = session.info.setdefault(_AFTER_COMMIT, set())
    if callback in callbacks:
        return
    callbacks.add(callback)

    def committed(_: object) -> None:
        callbacks.discard(callback)
        callback()

    event.listen(session.sync_session, "after_commit", committed, once=True)
