"""Entries written straight through the service's own use cases, for tests about storing and reading them."""

from __future__ import annotations

from loyalty.domain import Money, OrderEntries
from loyalty.store import DatabaseLedger
from loyalty.use_cases import PointsBook


async def _nothing_to_announce(order: OrderEntries) -> None:
    """These tests are about the ledger; what it announces is test_commands.py's business."""


async def award(ledger: DatabaseLedger, customer_id: str, order_id: str, amount_minor: int) -> OrderEntries:
    """Award an order's points in a transaction of its own."""
    async with ledger.database.transaction() as session:
        book = PointsBook(ledger.in_session(session), announce=_nothing_to_announce)
        return await book.award(order_id=order_id, customer_id=customer_id, amount=Money(amount_minor, "GBP"))


async def revoke(ledger: DatabaseLedger, customer_id: str, order_id: str) -> OrderEntries:
    """Revoke an order's points in a transaction of its own."""
    async with ledger.database.transaction() as session:
        book = PointsBook(ledger.in_session(session), announce=_nothing_to_announce)
        return await book.revoke(order_id=order_id, customer_id=customer_id)
