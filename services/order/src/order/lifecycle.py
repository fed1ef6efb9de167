"""An order's life: the statuses it goes through, and what it needs sent at each turn. Pure Python.

    placed ─▶ stock_reserved ─▶ paid ─▶ dispatched
      │            │             │
      ▼            ▼             ▼
    rejected / cancelled      rejected (the stock hold lapsed before dispatch: refunded)

Each method is named after what happened (a partner's answer, a deadline passed, the customer's
cancellation). It checks the rule, moves the status, records a history entry and the facts the shop is
told, and returns the commands the order needs sent next (``Send``). The fulfilment (``order.saga``)
only carries out what the order decided, so all of the saga's decisions are tested here, without I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from order.domain import (
    COMPENSATIONS,
    MAX_TOTAL_MINOR,
    CatalogItem,
    DeliveryAddress,
    Money,
    OrderLine,
    OrderRequest,
    OrderTooLargeError,
    Placement,
    Send,
    Step,
    UnknownSkuError,
)
from order.facts import Fact, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected, RejectionReason


class OrderStatus(StrEnum):
    PLACED = "placed"
    STOCK_RESERVED = "stock_reserved"
    PAID = "paid"
    DISPATCHED = "dispatched"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# Until payment is taken the customer may change their mind; after that, the parcel is on its way.
CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.STOCK_RESERVED})
LET_GO = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})


class OrderNotCancellableError(Exception):
    def __init__(self, order_id: str, status: OrderStatus) -> None:
        self.status = status
        super().__init__(f"order {order_id} is {status}: an order can be cancelled only until its payment is taken")


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to an order: when, the status it left the order in, what, and why."""

    at: datetime
    status: OrderStatus
    event: str
    reason: str | None = None


@dataclass(eq=False)
class Order:
    """One customer's order, from placing to dispatch or its end; ``new_history`` and ``facts`` await saving."""

    id: str
    customer_id: str
    placement: Placement
    lines: tuple[OrderLine, ...]
    delivery: DeliveryAddress
    card_last4: str
    status: OrderStatus
    placed_at: datetime
    updated_at: datetime
    points: int | None = None  # what loyalty awarded, once it said
    new_history: list[HistoryEntry] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    @classmethod
    def place(
        cls,
        request: OrderRequest,
        *,
        order_id: str,
        fingerprint: str,
        catalog: dict[str, CatalogItem],
        delivery: DeliveryAddress,
        at: datetime,
    ) -> tuple[Order, list[Send]]:
        """A new order at the catalog's current prices; its stock is to be reserved first."""
        unknown = [sku for sku in request.skus if sku not in catalog]
        if unknown:
            raise UnknownSkuError(unknown)
        lines = tuple(
            OrderLine(sku=item.sku, title=item.title, artist=item.artist, quantity=line.quantity, unit_price=item.price)
            for line in request.lines
            for item in [catalog[line.sku]]
        )
        order = cls(
            id=order_id,
            customer_id=request.customer_id,
            placement=Placement(request.idempotency_key, fingerprint),
            lines=lines,
            delivery=delivery,
            card_last4=request.card.last4,
            status=OrderStatus.PLACED,
            placed_at=at,
            updated_at=at,
        )
        total = order.total  # raises MixedCurrenciesError: one order, one currency
        if total.amount_minor > MAX_TOTAL_MINOR:
            raise OrderTooLargeError(total.amount_minor)
        order._note("placed", None, at)
        order.facts.append(OrderPlaced(order.id, order.customer_id, lines, total, at))
        return order, [Send(Step.RESERVE_STOCK)]

    @property
    def total(self) -> Money:
        """What the order costs: its lines at the prices it was placed at."""
        first, *rest = (line.total for line in self.lines)
        return sum(rest, first)

    @property
    def payment_may_be_asked(self) -> bool:
        """Whether payment may still be asked for, so the card must be kept until it is answered."""
        return self.status in (OrderStatus.PLACED, OrderStatus.STOCK_RESERVED)

    # -- the warehouse's answers -------------------------------------------------------------------

    def stock_reserved(self, *, at: datetime) -> list[Send]:
        """The warehouse holds the order's stock: payment is next."""
        if self.status is OrderStatus.PLACED:
            self._move(OrderStatus.STOCK_RESERVED, "stock_reserved", None, at)
            return [Send(Step.TAKE_PAYMENT)]
        if self.status in LET_GO:
            # The hold came after the order was let go (cancelled meanwhile): give it back.
            self._note("stock_released_again", "the warehouse reserved stock for an order that had ended", at)
            return [Send(Step.RELEASE_STOCK)]
        return []

    def out_of_stock(self, shortages: str, *, at: datetime) -> list[Send]:
        """The warehouse could not hold every line: the order is rejected."""
        if self.status is OrderStatus.PLACED:
            self._reject(RejectionReason.OUT_OF_STOCK, f"not enough stock: {shortages}", at)
        return []  # nothing was reserved, so nothing is to be released

    def dispatched(self, *, at: datetime) -> list[Send]:
        """The parcel left the warehouse."""
        if self.status is OrderStatus.PAID:
            self._move(OrderStatus.DISPATCHED, "dispatched", None, at)
            self.facts.append(OrderDispatched(self.id, self.customer_id, self.total, at))
        return []

    def stock_lapsed(self, detail: str, *, at: datetime) -> list[Send]:
        """The warehouse no longer held the order's stock when asked to dispatch it."""
        if self.status is not OrderStatus.PAID:
            return []
        self._reject(RejectionReason.STOCK_LAPSED, detail, at)
        # Points are revoked whether or not their award was confirmed yet: loyalty lets a revocation
        # that overtakes its award cancel it.
        return [Send(Step.REFUND_PAYMENT), Send(Step.REVOKE_POINTS)]

    def stock_released(self, *, at: datetime) -> list[Send]:
        """The warehouse confirmed it holds nothing more for the order (a compensation done)."""
        self._note("stock_released", None, at)
        return []

    # -- payment's answers -------------------------------------------------------------------------

    def payment_taken(self, *, at: datetime) -> list[Send]:
        """Payment charged the card: points and dispatch are next."""
        if self.status is OrderStatus.STOCK_RESERVED:
            self._move(OrderStatus.PAID, "payment_taken", None, at)
            return [Send(Step.AWARD_POINTS), Send(Step.DISPATCH_ORDER)]
        if self.status in LET_GO:
            self._note("payment_refunded_again", "payment was taken for an order that had ended", at)
            return [Send(Step.REFUND_PAYMENT)]
        return []

    def payment_refused(self, reason: RejectionReason, detail: str, *, at: datetime) -> list[Send]:
        """Payment was declined by the card's bank, or failed at the provider."""
        if self.status is not OrderStatus.STOCK_RESERVED:
            return []  # cancelled meanwhile: its stock is being released already
        self._reject(reason, detail, at)
        return [Send(Step.RELEASE_STOCK)]

    def payment_refunded(self, *, at: datetime) -> list[Send]:
        """Payment gave the money back (a compensation done)."""
        self._note("payment_refunded", None, at)
        return []

    def nothing_to_refund(self, reason: str, *, at: datetime) -> list[Send]:
        """Payment took nothing (declined, failed, or cancelled before it was taken): the refund is done."""
        self._note("nothing_to_refund", reason, at)
        return []

    # -- loyalty's answers -------------------------------------------------------------------------

    def points_awarded(self, points: int, *, at: datetime) -> list[Send]:
        """Loyalty awarded the customer ``points`` for the order."""
        self.points = points
        self._note("points_awarded", f"{points} points", at)
        if self.status in LET_GO:
            return [Send(Step.REVOKE_POINTS)]
        return []

    def points_revoked(self, *, at: datetime) -> list[Send]:
        """Loyalty took the order's points back (a compensation done)."""
        self._note("points_revoked", None, at)
        return []

    # -- the customer ------------------------------------------------------------------------------

    def cancel(self, *, at: datetime) -> list[Send]:
        """Cancel at the customer's request, until payment is taken; the stock goes back."""
        if self.status not in CANCELLABLE:
            raise OrderNotCancellableError(self.id, self.status)
        reason = "cancelled by the customer"
        self._move(OrderStatus.CANCELLED, "cancelled", reason, at)
        self.facts.append(OrderCancelled(self.id, self.customer_id, self.total, reason, at))
        # Sent while a reservation may still be under way: the warehouse releases what it holds, and a
        # reservation confirmed later is released on its confirmation (``stock_reserved``).
        return [Send(Step.RELEASE_STOCK)]

    # -- no answer ---------------------------------------------------------------------------------

    def timed_out(self, step: Step, attempt: int, *, max_attempts: int, at: datetime) -> list[Send]:
        """A command got no answer by its deadline: retry it, give up on the order, or leave a note.

        Every partner handles a command again for the same order as the same request, so asking again
        is safe; the step decides whether it is worth it.
        """
        retry = attempt < max_attempts
        if step is Step.RESERVE_STOCK:
            if self.status is not OrderStatus.PLACED:
                return []
            # A warehouse that does not answer is unlikely to in time for the customer: give up, and
            # release whatever it may have reserved once it catches up.
            self._reject(RejectionReason.WAREHOUSE_UNAVAILABLE, "the warehouse did not answer in time", at)
            return [Send(Step.RELEASE_STOCK)]
        if step is Step.TAKE_PAYMENT:
            if self.status is OrderStatus.STOCK_RESERVED:
                if retry:
                    self._note("payment_retried", _unanswered(step, attempt, max_attempts), at)
                    return [Send(Step.TAKE_PAYMENT, attempt + 1)]
                self._reject(RejectionReason.PAYMENT_UNAVAILABLE, "payment did not answer in time", at)
                # Unanswered is not undone: payment may have charged the card and not said so yet.
                return [Send(Step.RELEASE_STOCK), Send(Step.REFUND_PAYMENT)]
            if self.status in LET_GO:
                return [Send(Step.REFUND_PAYMENT)]
            return []
        still_needed = {
            Step.AWARD_POINTS: self.status in (OrderStatus.PAID, OrderStatus.DISPATCHED),
            Step.DISPATCH_ORDER: self.status is OrderStatus.PAID,
        }.get(step, step in COMPENSATIONS)
        if not still_needed:
            return []
        if retry:
            self._note(f"{step}_retried", _unanswered(step, attempt, max_attempts), at)
            return [Send(step, attempt + 1)]
        # Money or goods may be where they should not be: a person has to look (see docs/order.md).
        self._note(f"{step}_unconfirmed", f"{_unanswered(step, attempt, max_attempts)}; needs a person", at)
        return []

    # -- recording ---------------------------------------------------------------------------------

    def _move(self, status: OrderStatus, event: str, reason: str | None, at: datetime) -> None:
        self.status = status
        self._note(event, reason, at)

    def _note(self, event: str, reason: str | None, at: datetime) -> None:
        self.updated_at = at
        self.new_history.append(HistoryEntry(at=at, status=self.status, event=event, reason=reason))

    def _reject(self, reason: RejectionReason, detail: str, at: datetime) -> None:
        self._move(OrderStatus.REJECTED, reason.value, detail, at)
        self.facts.append(OrderRejected(self.id, self.customer_id, self.total, reason, detail, at))


def _unanswered(step: Step, attempt: int, max_attempts: int) -> str:
    return f"{step} unanswered by its deadline (attempt {attempt} of {max_attempts})"
