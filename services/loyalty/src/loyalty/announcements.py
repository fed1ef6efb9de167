"""Where an order's points stand, in the contract's terms: the reply to a command, and the event of an entry."""

from __future__ import annotations

from paved import Envelope
from paved.messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import contract
from loyalty.domain import OrderEntries


def where_it_stands(order: OrderEntries) -> contract.PointsAwarded | contract.PointsRevoked:
    """``PointsRevoked`` once the order was revoked (whenever its award came), else ``PointsAwarded``."""
    if order.revoke is not None:
        revoke = order.revoke
        return contract.PointsRevoked(
            order_id=order.order_id,
            customer_id=revoke.customer_id,
            points=revoke.points,
            balance=revoke.balance_after,
            revoked_at=revoke.recorded_at,
            was_awarded=order.award is not None,
        )
    if order.award is None:
        raise ValueError(f"order {order.order_id} has no entry yet: there is nothing to tell")
    award = order.award
    return contract.PointsAwarded(
        order_id=order.order_id,
        customer_id=award.customer_id,
        points=award.points,
        balance=award.balance_after,
        awarded_at=award.recorded_at,
    )


def subject_of(event: contract.PointsAwarded | contract.PointsRevoked) -> str:
    """The LOYALTY_EVENTS subject an event goes out on."""
    if isinstance(event, contract.PointsRevoked):
        return contract.POINTS_REVOKED_SUBJECT
    return contract.POINTS_AWARDED_SUBJECT


class OutboxAnnouncer:
    """Writes the event of an order's newest entry to the outbox, in ``session``'s transaction."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, caused_by: Envelope | None = None) -> None:
        self.session = session
        self.outbox = outbox
        # The command being handled: its events carry its correlation id and name it as their cause.
        self.caused_by = caused_by

    async def __call__(self, order: OrderEntries) -> None:
        event = where_it_stands(order)
        await self.outbox.put(self.session, event.envelope(caused_by=self.caused_by), subject=subject_of(event))
