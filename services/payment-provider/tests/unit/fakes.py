"""In-memory stand-ins for the processor's ports, shared by the unit tests."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from payment_provider.domain import Charge, ChargeNotFoundError, KeyInUseError, Refund


class FakeCharges:
    """Charges and refunds kept apart, as the tables keep them: a charge read back has the refunds stored."""

    def __init__(self) -> None:
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, Refund] = {}

    def _read(self, charge: Charge) -> Charge:
        return replace(charge, refunds=[refund for refund in self.refunds.values() if refund.charge_id == charge.id])

    async def get(self, charge_id: str, *, for_update: bool = False) -> Charge:
        if charge_id not in self.charges:
            raise ChargeNotFoundError(charge_id)
        return self._read(self.charges[charge_id])

    async def by_key(self, idempotency_key: str) -> Charge | None:
        found = [charge for charge in self.charges.values() if charge.idempotency_key == idempotency_key]
        return self._read(found[0]) if found else None

    async def by_reference(self, reference: str, *, limit: int) -> list[Charge]:
        found = sorted((c for c in self.charges.values() if c.reference == reference), key=lambda c: c.created_at)
        return [self._read(charge) for charge in found[:limit]]

    async def add(self, charge: Charge) -> None:
        if await self.by_key(charge.idempotency_key) is not None:
            raise KeyInUseError(charge.idempotency_key)
        self.charges[charge.id] = replace(charge, refunds=[])

    async def refund_by_key(self, idempotency_key: str) -> Refund | None:
        return next((r for r in self.refunds.values() if r.idempotency_key == idempotency_key), None)

    async def add_refund(self, refund: Refund) -> None:
        if await self.refund_by_key(refund.idempotency_key) is not None:
            raise KeyInUseError(refund.idempotency_key)
        self.refunds[refund.id] = refund


class FakeUnitOfWork:
    """Transactions over one FakeCharges: a write that raises leaves it as it was, as a rollback does."""

    def __init__(self) -> None:
        self.charges = FakeCharges()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeCharges]:
        yield self.charges

    @asynccontextmanager
    async def write(self) -> AsyncIterator[FakeCharges]:
        before = copy.deepcopy(self.charges.__dict__)
        try:
            yield self.charges
        except BaseException:
            self.charges.__dict__.update(before)
            raise
