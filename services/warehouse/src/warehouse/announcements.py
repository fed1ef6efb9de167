"""What the warehouse announces: each domain fact as its contract event, written to the outbox.

The event is written in the transaction that made the change, so it is published if and only if the
change commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from paved import Envelope
from paved.messaging import Event, Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse import contract, domain


def lines_out(lines: Iterable[domain.Line]) -> tuple[contract.Line, ...]:
    """The contract's form of an order's lines."""
    return tuple(contract.Line(sku=line.sku, quantity=line.quantity) for line in lines)


def published(fact: domain.Fact) -> tuple[Event, str]:
    """The event that announces ``fact``, and the subject it goes out on."""
    match fact:
        case domain.StockReceived():
            received = contract.StockReceived(
                sku=fact.sku, quantity=fact.quantity, receipt_id=fact.receipt_id, received_at=fact.at
            )
            return received, contract.STOCK_RECEIVED_SUBJECT
        case domain.StockReserved():
            reserved = contract.StockReserved(
                order_id=fact.order_id, lines=lines_out(fact.lines), expires_at=fact.expires_at
            )
            return reserved, contract.STOCK_RESERVED_SUBJECT
        case domain.StockReleased():
            released = contract.StockReleased(
                order_id=fact.order_id, lines=lines_out(fact.lines), reason=fact.reason, released_at=fact.at
            )
            return released, contract.STOCK_RELEASED_SUBJECT
        case domain.OrderPicked():
            return contract.OrderPicked(order_id=fact.order_id, picked_at=fact.at), contract.ORDER_PICKED_SUBJECT
        case domain.OrderDispatched():
            dispatched = contract.OrderDispatched(
                order_id=fact.order_id, lines=lines_out(fact.lines), dispatched_at=fact.at
            )
            return dispatched, contract.ORDER_DISPATCHED_SUBJECT
        case _:
            assert_never(fact)


class OutboxAnnouncer:
    """Writes each fact's event to the outbox in ``session``'s transaction."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, caused_by: Envelope | None = None) -> None:
        self.session = session
        self.outbox = outbox
        # The command being handled, if any: its events carry its correlation and name it as their cause.
        self.caused_by = caused_by

    async def __call__(self, fact: domain.Fact) -> None:
        event, subject = published(fact)
        await self.outbox.put(self.session, event.envelope(caused_by=self.caused_by), subject=subject)
