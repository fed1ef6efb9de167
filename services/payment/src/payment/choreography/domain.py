"""What payment has heard of one order's choreographed fulfilment, and what it is to do about it.

Pure Python: no I/O, framework, ORM or broker. Three things matter, and they may come in any order,
since they travel on three streams: the card (``KeepCard``, which only a choreographed order sends), the
stock reserved (``warehouse.StockReserved``), and the order's end (``order.OrderCancelled`` or
``order.OrderRejected``). The payment is taken once the card and the stock are both there, unless the order
ended first; once taken, the order's end refunds it. Each counts once per order, however often it comes.

Stock or an end heard of an order before its card is noted and nothing more: the card may still be on its
way. An order that never sends one is orchestrated, and its note never leads to anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from payment.money import Money


@dataclass(frozen=True)
class CardTerms:
    """What KeepCard asks: this amount, from this customer's card, once the order's stock is reserved."""

    customer_id: str
    amount: Money


@dataclass
class Choreography:
    """The order's card (once KeepCard came), whether its stock is reserved, whether it ended."""

    order_id: str
    heard_at: datetime  # when payment first heard of the order
    terms: CardTerms | None = None
    # Sealed by the card vault; kept only until it goes to the payment, or the order ends.
    sealed_card: bytes | None = field(default=None, repr=False)
    card_kept_at: datetime | None = None
    stock_reserved_at: datetime | None = None
    payment_asked_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def choreographed(self) -> bool:
        """Whether the order sent its card: only then is it choreographed, and payment acts on its events."""
        return self.card_kept_at is not None

    def keep_card(self, terms: CardTerms, sealed_card: bytes, *, at: datetime) -> bool:
        """Keep the card; True if the payment is now to be taken (the stock was reserved first)."""
        if self.card_kept_at is not None:
            return False  # kept already
        self.terms, self.card_kept_at = terms, at
        if self.ended_at is None:  # an order that has ended is never charged: its card is not kept at all
            self.sealed_card = sealed_card
        return self._payment_due

    def reserve_stock(self, *, at: datetime) -> bool:
        """The order's stock is reserved; True if the payment is now to be taken (the card was kept first)."""
        if self.stock_reserved_at is not None:
            return False  # heard already
        self.stock_reserved_at = at
        return self._payment_due

    def hand_over_card(self, *, at: datetime) -> tuple[CardTerms, bytes]:
        """The terms and sealed card, for the payment to be taken with; the card is kept here no longer."""
        assert self._payment_due and self.terms is not None and self.sealed_card is not None
        sealed, self.sealed_card, self.payment_asked_at = self.sealed_card, None, at
        return self.terms, sealed

    def end(self, *, at: datetime) -> bool:
        """The order was cancelled or rejected: the card is forgotten; True if a payment was asked, to refund."""
        if self.ended_at is not None:
            return False  # ended already
        self.ended_at, self.sealed_card = at, None
        return self.payment_asked_at is not None

    @property
    def _payment_due(self) -> bool:
        # The card goes when it is handed over or the order ends: one still here has never been used.
        return self.sealed_card is not None and self.stock_reserved_at is not None
