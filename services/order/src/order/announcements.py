"""What order tells the shop: each of an order's facts as order's contract event, for paved's ``Announcer``.

(The commands of its fulfilment are built in ``order.fulfilment`` and sent by paved's orchestrator; a
choreographed order's card goes to payment from ``order.store``.)
"""

from __future__ import annotations

from paved.messaging import Event

from order import contract
from order.domain import Money
from order.facts import Fact, FulfilmentRequested, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected


def correlation_of(fact: Fact) -> str:
    """The business process a fact belongs to: its order's (the order's saga has the same id)."""
    return fact.order_id


def _price(money: Money) -> contract.Money:
    return contract.Money(amount_minor=money.amount_minor, currency=money.currency)


def event_of(fact: Fact) -> Event:
    """The contract event that tells ``fact``; it knows its own subject."""
    match fact:
        case OrderPlaced():
            lines = [
                contract.PlacedLine(
                    sku=line.sku, title=line.title, quantity=line.quantity, unit_price=_price(line.unit_price)
                )
                for line in fact.lines
            ]
            return contract.OrderPlaced(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                lines=lines,
                total=_price(fact.total),
                placed_at=fact.at,
            )
        case FulfilmentRequested():
            return contract.FulfilmentRequested(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                lines=[contract.RequestedLine(sku=line.sku, quantity=line.quantity) for line in fact.lines],
                total=_price(fact.total),
                requested_at=fact.at,
            )
        case OrderDispatched():
            return contract.OrderDispatched(
                order_id=fact.order_id, customer_id=fact.customer_id, total=_price(fact.total), dispatched_at=fact.at
            )
        case OrderRejected():
            return contract.OrderRejected(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason.value,
                detail=fact.detail,
                rejected_at=fact.at,
            )
        case OrderCancelled():
            return contract.OrderCancelled(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason,
                cancelled_at=fact.at,
            )
