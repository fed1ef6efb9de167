"""The processor's repository and unit of work: the only code that knows its tables (``tables.py``),
mapping them onto charges and refunds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from paved import Database
from sqlalchemy import Insert, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_provider.domain import Charge, ChargeNotFoundError, ChargeStatus, KeyInUseError, Refund
from payment_provider.tables import charges, refunds


def _to_refund(row: RowMapping) -> Refund:
    return Refund(
        id=row["id"],
        charge_id=row["charge_id"],
        idempotency_key=row["idempotency_key"],
        amount_minor=row["amount_minor"],
        created_at=row["created_at"],
    )


def _to_charge(row: RowMapping, refunds_of_charge: Sequence[Refund]) -> Charge:
    return Charge(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        card_last4=row["card_last4"],
        reference=row["reference"],
        status=ChargeStatus(row["status"]),
        decline_code=row["decline_code"],
        created_at=row["created_at"],
        refunds=list(refunds_of_charge),
    )


class ChargeRepository:
    """Charges and their refunds, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _with_refunds(self, rows: Sequence[RowMapping]) -> list[Charge]:
        if not rows:
            return []
        found = await self.session.execute(
            select(refunds).where(refunds.c.charge_id.in_([row["id"] for row in rows])).order_by(refunds.c.created_at)
        )
        by_charge: dict[str, list[Refund]] = {}
        for refund_row in found.mappings():
            by_charge.setdefault(refund_row["charge_id"], []).append(_to_refund(refund_row))
        return [_to_charge(row, by_charge.get(row["id"], [])) for row in rows]

    async def get(self, charge_id: str, *, for_update: bool = False) -> Charge:
        """The charge; ``for_update`` locks it until the transaction ends (PostgreSQL; SQLite has one writer)."""
        query = select(charges).where(charges.c.id == charge_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            raise ChargeNotFoundError(charge_id)
        return (await self._with_refunds([row]))[0]

    async def by_key(self, idempotency_key: str) -> Charge | None:
        """The charge made under ``idempotency_key``, if any."""
        row = (
            (await self.session.execute(select(charges).where(charges.c.idempotency_key == idempotency_key)))
            .mappings()
            .first()
        )
        return None if row is None else (await self._with_refunds([row]))[0]

    async def by_reference(self, reference: str, *, limit: int) -> list[Charge]:
        """The charges made with the client's ``reference``, oldest first."""
        query = select(charges).where(charges.c.reference == reference).order_by(charges.c.created_at).limit(limit)
        return await self._with_refunds((await self.session.execute(query)).mappings().all())

    async def add(self, charge: Charge) -> None:
        """Store a new charge; ``KeyInUseError`` if a concurrent request took its key first."""
        row = {
            "id": charge.id,
            "idempotency_key": charge.idempotency_key,
            "reference": charge.reference,
            "amount_minor": charge.amount_minor,
            "currency": charge.currency,
            "card_last4": charge.card_last4,
            "status": charge.status.value,
            "decline_code": charge.decline_code,
            "created_at": charge.created_at,
        }
        await self._insert_once(insert(charges).values(row), charge.idempotency_key)

    async def refund_by_key(self, idempotency_key: str) -> Refund | None:
        """The refund made under ``idempotency_key``, if any."""
        query = select(refunds).where(refunds.c.idempotency_key == idempotency_key)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _to_refund(row)

    async def add_refund(self, refund: Refund) -> None:
        """Store a new refund; ``KeyInUseError`` if a concurrent request took its key first."""
        row = {
            "id": refund.id,
            "charge_id": refund.charge_id,
            "idempotency_key": refund.idempotency_key,
            "amount_minor": refund.amount_minor,
            "created_at": refund.created_at,
        }
        await self._insert_once(insert(refunds).values(row), refund.idempotency_key)

    async def _insert_once(self, statement: Insert, idempotency_key: str) -> None:
        # Two requests with one key at once (PostgreSQL; SQLite takes them in turn): the second
        # finds the unique key taken and is told to retry, which then replays the first one's answer.
        try:
            async with self.session.begin_nested():
                await self.session.execute(statement)
        except IntegrityError as exc:
            raise KeyInUseError(f"a request with the idempotency key {idempotency_key!r} is in progress") from exc


class DatabaseUnitOfWork:
    """Transactions on the processor's database, for the use cases."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ChargeRepository]:
        async with self.database.read() as session:
            yield ChargeRepository(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[ChargeRepository]:
        async with self.database.transaction() as session:
            yield ChargeRepository(session)
