"""Payment's side of a choreographed fulfilment: the use cases behind KeepCard and the events payment reacts to.

Each runs in the transaction of the message being handled, and records what was heard of the order
(``choreography.py``). When the card and the stock are both there, the payment is asked of the cashier
exactly as a TakePayment asks it (same worker, processor, leases and idempotency key), and when a
choreographed order ends after that, its refund is asked as a RefundPayment asks it. The events those
publish are the cashier's, caused by the message that made them due.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from payment.cashier import Cashier, TakeRequest
from payment.choreography import CardTerms, Choreography
from payment.ports import Asker, CardVault, Clock, Store

log = structlog.get_logger(logger_name="payment.card_keeper")


class CardKeeper:
    """Keeps the cards of choreographed orders until their stock is reserved, then has the cashier take them."""

    def __init__(self, *, cashier: Cashier, vault: CardVault, clock: Clock) -> None:
        self.cashier = cashier
        self.vault = vault
        self.clock = clock

    async def keep_card(self, store: Store, request: TakeRequest, asker: Asker) -> None:
        """KeepCard: keep the card, sealed; take the payment at once if the stock was reserved first."""
        terms = CardTerms(request.customer_id, request.amount)
        sealed = self.vault.seal(request.card, order_id=request.order_id)
        async with self._heard_of(store, request.order_id) as choreography:
            if choreography.terms not in (None, terms):
                # One card per order, as one payment per order: the first terms stand.
                log.warning("card sent again with other terms; the first stand", order_id=request.order_id)
            elif choreography.ended_at is not None and not choreography.choreographed:
                log.info("card not kept: the order ended before it came", order_id=request.order_id)
            due = choreography.keep_card(terms, sealed, at=self.clock())
            take = self._hand_over(choreography) if due else None
        if take is not None:
            await self.cashier.take(store, take, asker)

    async def stock_reserved(self, store: Store, order_id: str, asker: Asker) -> None:
        """warehouse.StockReserved: take the payment if the order's card is kept; otherwise only note it."""
        async with self._heard_of(store, order_id) as choreography:
            take = self._hand_over(choreography) if choreography.reserve_stock(at=self.clock()) else None
        if take is not None:
            await self.cashier.take(store, take, asker)

    async def order_ended(self, store: Store, order_id: str, asker: Asker) -> None:
        """order.OrderCancelled or OrderRejected: forget a card not used yet; refund a payment asked."""
        async with self._heard_of(store, order_id) as choreography:
            refund = choreography.end(at=self.clock())
        if refund:
            await self.cashier.refund(store, order_id, asker)

    def _hand_over(self, choreography: Choreography) -> TakeRequest:
        """What the payment is to be taken with: the kept card, opened for the cashier (who seals it again)."""
        terms, sealed = choreography.hand_over_card(at=self.clock())
        card = self.vault.open(sealed, order_id=choreography.order_id)
        return TakeRequest(
            order_id=choreography.order_id, customer_id=terms.customer_id, amount=terms.amount, card=card
        )

    @asynccontextmanager
    async def _heard_of(self, store: Store, order_id: str) -> AsyncIterator[Choreography]:
        """The order's choreography, held for the transaction (new if nothing was heard of it yet), saved after."""
        found = await store.choreographies.find(order_id)
        choreography = found or Choreography(order_id=order_id, heard_at=self.clock())
        yield choreography
        await (store.choreographies.save if found else store.choreographies.add)(choreography)
