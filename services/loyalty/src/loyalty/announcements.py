"""Where an order's points stand, in the contract's terms: the event of its newest entry, and the reply to a
command about it (the same message)."""

from __future__ import annotations

from loyalty import contract
from loyalty.domain import OrderEntries


def event_of(order: OrderEntries) -> contract.PointsAwarded | contract.PointsRevoked:
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
