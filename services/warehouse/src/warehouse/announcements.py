"""What the warehouse announces: each domain fact as its contract event, written to the outbox.

The event is written in the transaction that made the change, so it is published if and only if the
change commits. An event about an order is correlated with that order (its id is the correlation id),
whatever made the change: the order's business process is what its events belong to, and the cause (a
request, or a message) is named as the causation. So a hold of one order let go on the way while
handling another's, or by a read of its SKU, is still told in its own order's story.
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


def shortages_out(shortages: Iterable[domain.Shortage]) -> tuple[contract.Shortage, ...]:
    """The contract's form of the SKUs an order is short of."""
    return tuple(contract.Shortage(sku=s.sku, requested=s.requested, available=s.available) for s in shortages)


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
        # The message being handled, if any: its events name it as their cause.
        self.caused_by = caused_by

    async def __call__(self, fact: domain.Fact) -> None:
        event, subject = published(fact)
        order_id = None if isinstance(fact, domain.StockReceived) else fact.order_id
        envelope = event.envelope(caused_by=self.caused_by, correlation_id=order_id)
        await self.outbox.put(self.session, envelope, subject=subject)
