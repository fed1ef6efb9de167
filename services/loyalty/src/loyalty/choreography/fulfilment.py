"""Loyalty's part in the choreographed fulfilment: award and revoke an order's points on its payment's events.

Only for the orders order announced as choreographed (``FulfilmentRequested``). An orchestrated order's
payment events pass by loyalty too, but order drives that fulfilment with AwardPoints and RevokePoints:
reacting to its events as well would award it from two sides. So an event for an order loyalty was not
told of has no effect on points; it is only noted, because the order's request may still be on its way
through the other consumer, and then the request catches up with it.

Once per order: the order is remembered once (the first word on it stands), and the award and revocation
are PointsBook's, which records each at most once per order and never an award after a revocation.
"""

from __future__ import annotations

from loyalty.domain import ChoreographedOrder, OrderEntries, PaymentOutcome
from loyalty.ports import ChoreographedOrders
from loyalty.use_cases import PointsBook


class ChoreographedFulfilment:
    """The reactions to one event of the choreographed fulfilment, in the transaction that handles it."""

    def __init__(self, orders: ChoreographedOrders, book: PointsBook) -> None:
        self.orders = orders
        self.book = book

    async def fulfilment_requested(self, order: ChoreographedOrder) -> None:
        """Remember that ``order`` is choreographed, and catch up with its payment if that was heard first."""
        await self.orders.remember(order)
        noted = await self.orders.payments_noted(order.customer_id, order.order_id)
        if PaymentOutcome.TAKEN in noted:
            await self.book.award(order_id=order.order_id, customer_id=order.customer_id, amount=order.total)
        if PaymentOutcome.REFUNDED in noted:
            await self.book.revoke(order_id=order.order_id, customer_id=order.customer_id)

    async def payment_taken(self, *, order_id: str, customer_id: str) -> OrderEntries | None:
        """Award a choreographed order's points on its total, as AwardPoints does; None for any other order."""
        order = await self.orders.find(customer_id, order_id)
        if order is None:
            # Perhaps its request is still on its way (another consumer): kept for it, or for nothing.
            await self.orders.note_payment(customer_id, order_id, PaymentOutcome.TAKEN)
            return None
        return await self.book.award(order_id=order.order_id, customer_id=order.customer_id, amount=order.total)

    async def payment_refunded(self, *, order_id: str, customer_id: str) -> OrderEntries | None:
        """Revoke a choreographed order's points, as RevokePoints does; None for any other order."""
        order = await self.orders.find(customer_id, order_id)
        if order is None:
            await self.orders.note_payment(customer_id, order_id, PaymentOutcome.REFUNDED)
            return None
        return await self.book.revoke(order_id=order.order_id, customer_id=order.customer_id)
