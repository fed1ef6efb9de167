"""What order tells the shop: its facts, published through the outbox as order's contract events.

(The commands of its fulfilment are built in ``order.fulfilment`` and sent by paved's orchestrator.)
"""

from __future__ import annotations

from paved.messaging import Event, Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from order import contract, partners
from order.domain import Money
from order.facts import Fact, FulfilmentRequested, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected


class Announcer:
    """Publishes an order's facts as order's contract events, in one transaction's session."""

    def __init__(self, session: AsyncSession, *, outbox: Outbox) -> None:
        self.session = session
        self.outbox = outbox

    async def hand_card_to_payment(self, order_id: str, card: partners.KeepCard) -> None:
        """Send payment the card to charge once the stock is reserved (a choreographed order's only command)."""
        envelope = card.envelope(correlation_id=order_id)
        await self.outbox.put(self.session, envelope, subject=partners.KEEP_CARD_SUBJECT)

    async def announce(self, fact: Fact) -> None:
        """Publish ``fact`` as order's contract event, in this transaction (its saga's id correlates it)."""
        event, subject = _published(fact)
        await self.outbox.put(self.session, event.envelope(correlation_id=fact.order_id), subject=subject)


def _price(money: Money) -> contract.Money:
    return contract.Money(amount_minor=money.amount_minor, currency=money.currency)


def _published(fact: Fact) -> tuple[Event, str]:
    """The contract event that tells ``fact``, and its subject."""
    match fact:
        case OrderPlaced():
            lines = [
                contract.PlacedLine(
                    sku=line.sku, title=line.title, quantity=line.quantity, unit_price=_price(line.unit_price)
                )
                for line in fact.lines
            ]
            placed = contract.OrderPlaced(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                lines=lines,
                total=_price(fact.total),
                placed_at=fact.at,
            )
            return placed, contract.ORDER_PLACED_SUBJECT
        case FulfilmentRequested():
            requested = contract.FulfilmentRequested(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                lines=[contract.RequestedLine(sku=line.sku, quantity=line.quantity) for line in fact.lines],
                total=_price(fact.total),
                requested_at=fact.at,
            )
            return requested, contract.FULFILMENT_REQUESTED_SUBJECT
        case OrderDispatched():
            dispatched = contract.OrderDispatched(
                order_id=fact.order_id, customer_id=fact.customer_id, total=_price(fact.total), dispatched_at=fact.at
            )
            return dispatched, contract.ORDER_DISPATCHED_SUBJECT
        case OrderRejected():
            rejected = contract.OrderRejected(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason.value,
                detail=fact.detail,
                rejected_at=fact.at,
            )
            return rejected, contract.ORDER_REJECTED_SUBJECT
        case OrderCancelled():
            cancelled = contract.OrderCancelled(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason,
                cancelled_at=fact.at,
            )
            return cancelled, contract.ORDER_CANCELLED_SUBJECT
