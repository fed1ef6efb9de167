"""What the warehouse announces: each domain fact as its contract event, for paved's ``Announcer``.

The event is written to the outbox in the transaction that made the change, so it is published if and
only if the change commits. An event about an order is correlated with that order (its id is the
correlation id), whatever made the change: the order's business process is what its events belong to,
and the cause (a request, or a message) is named as the causation. So a hold of one order let go on the
way while handling another's, or by a read of its SKU, is still told in its own order's story.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from paved.messaging import Event

from warehouse import contract, domain


def lines_out(lines: Iterable[domain.Line]) -> tuple[contract.Line, ...]:
    """The contract's form of an order's lines."""
    return tuple(contract.Line(sku=line.sku, quantity=line.quantity) for line in lines)


def shortages_out(shortages: Iterable[domain.Shortage]) -> tuple[contract.Shortage, ...]:
    """The contract's form of the SKUs an order is short of."""
    return tuple(contract.Shortage(sku=s.sku, requested=s.requested, available=s.available) for s in shortages)


def event_of(fact: domain.Fact) -> Event:
    """The event that announces ``fact`` (on its own subject)."""
    match fact:
        case domain.StockReceived():
            return contract.StockReceived(
                sku=fact.sku, quantity=fact.quantity, receipt_id=fact.receipt_id, received_at=fact.at
            )
        case domain.StockReserved():
            return contract.StockReserved(
                order_id=fact.order_id, lines=lines_out(fact.lines), expires_at=fact.expires_at
            )
        case domain.StockReleased():
            return contract.StockReleased(
                order_id=fact.order_id, lines=lines_out(fact.lines), reason=fact.reason, released_at=fact.at
            )
        case domain.OrderPicked():
            return contract.OrderPicked(order_id=fact.order_id, picked_at=fact.at)
        case domain.OrderDispatched():
            return contract.OrderDispatched(order_id=fact.order_id, lines=lines_out(fact.lines), dispatched_at=fact.at)
        case _:
            assert_never(fact)


def correlation_of(fact: domain.Fact) -> str | None:
    """The order a fact is about, whose id correlates its event; None for a delivery (the cause's, then)."""
    return None if isinstance(fact, domain.StockReceived) else fact.order_id
