"""The repository of what payment heard of each order's choreographed fulfilment: the SQL over ``payment_choreographies``.

Part of the payment service's store (``payment.store`` composes it into its unit of work), kept beside the
choreography it maps. A row holds the card KeepCard brought, sealed (``vault.py``), only until the payment
is asked or the order ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payment.choreography.domain import CardTerms, Choreography
from payment.money import Money
from payment.tables import payment_choreographies

# The columns of a choreography that map one to one onto its fields (its terms are three columns).
_HEARD = ("sealed_card", "card_kept_at", "stock_reserved_at", "payment_asked_at", "ended_at")

_FIND_CHOREOGRAPHY = (
    select(payment_choreographies).where(payment_choreographies.c.order_id == bindparam("order_id")).with_for_update()
)
_ADD_CHOREOGRAPHY = insert(payment_choreographies)
# The SET clause is the columns of the parameters besides ``order_key``: what was heard.
_SAVE_CHOREOGRAPHY = update(payment_choreographies).where(payment_choreographies.c.order_id == bindparam("order_key"))


class ChoreographyRepository:
    """What was heard of each order's choreographed fulfilment (the ``Choreographies`` port)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, order_id: str) -> Choreography | None:
        row = (await self.session.execute(_FIND_CHOREOGRAPHY, {"order_id": order_id})).mappings().first()
        if row is None:
            return None
        terms = None
        if row["customer_id"] is not None:
            terms = CardTerms(row["customer_id"], Money(row["amount_minor"], row["currency"]))
        return Choreography(
            order_id=row["order_id"],
            heard_at=row["heard_at"],
            terms=terms,
            **{name: row[name] for name in _HEARD},
        )

    async def add(self, choreography: Choreography) -> None:
        row = {"order_id": choreography.order_id, "heard_at": choreography.heard_at}
        await self.session.execute(_ADD_CHOREOGRAPHY, row | self._state_of(choreography))

    async def save(self, choreography: Choreography) -> None:
        await self.session.execute(
            _SAVE_CHOREOGRAPHY, {"order_key": choreography.order_id} | self._state_of(choreography)
        )

    @staticmethod
    def _state_of(choreography: Choreography) -> dict[str, Any]:
        terms = choreography.terms
        return {name: getattr(choreography, name) for name in _HEARD} | {
            "customer_id": terms.customer_id if terms else None,
            "amount_minor": terms.amount.amount_minor if terms else None,
            "currency": terms.amount.currency if terms else None,
        }
