"""What the processor's use cases need from the outside, as small Protocols: its charges, in transactions.

``store.py`` implements them over the database; the unit tests, in memory (tests/unit/fakes.py).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from payment_provider.domain import Charge, Refund


class Charges(Protocol):
    """Charges and their refunds, within one transaction."""

    async def get(self, charge_id: str, *, for_update: bool = False) -> Charge:
        """The charge; ``ChargeNotFoundError`` if there is none. ``for_update`` locks it until the end."""
        ...

    async def by_key(self, idempotency_key: str) -> Charge | None:
        """The charge made under ``idempotency_key``, if any."""
        ...

    async def by_reference(self, reference: str, *, limit: int) -> list[Charge]:
        """The charges made with the client's ``reference``, oldest first."""
        ...

    async def add(self, charge: Charge) -> None:
        """Store a new charge; ``KeyInUseError`` if a concurrent request took its key first."""
        ...

    async def refund_by_key(self, idempotency_key: str) -> Refund | None:
        """The refund made under ``idempotency_key``, if any."""
        ...

    async def add_refund(self, refund: Refund) -> None:
        """Store a new refund; ``KeyInUseError`` if a concurrent request took its key first."""
        ...


class UnitOfWork(Protocol):
    """Transactions on the processor's store."""

    def read(self) -> AbstractAsyncContextManager[Charges]: ...

    def write(self) -> AbstractAsyncContextManager[Charges]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...
