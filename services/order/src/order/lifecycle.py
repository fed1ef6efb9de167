"""An order's life: the statuses it goes through, and what happened to it on the way. Pure Python.

    placed ─▶ stock_reserved ─▶ paid ─▶ dispatched
      │            │
      ▼            ▼
    rejected / cancelled

Each method is named after the business action it takes (``reserve``, ``pay``, ``dispatch``,
``reject_for_shortage``, ``cancel``...), on a partner's answer or silence told by the fulfilment saga or the
choreography, or at the customer's request. It checks the rule, moves the status, and records a history
entry and the facts the shop is told (``dispatch`` records ``OrderDispatched``); an action the order's
status no longer allows (a repeated or overtaken answer) changes nothing. Which command comes next, and what is undone when, is the saga's
(``order.fulfilment``, run by paved's orchestrator): the order only keeps its own story straight."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from order.domain import (
    MAX_TOTAL_MINOR,
    CatalogItem,
    DeliveryAddress,
    FulfilmentStyle,
    Money,
    OrderLine,
    OrderRequest,
    OrderTooLargeError,
    Placement,
    Step,
    UnknownSkuError,
)
from order.facts import (
    Fact,
    FulfilmentRequested,
    OrderCancelled,
    OrderDispatched,
    OrderPlaced,
    OrderRejected,
    RejectionReason,
)


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
# What the history says when a step's compensation is done.
UNDONE = {
    Step.RESERVE_STOCK: "stock_released",
    Step.TAKE_PAYMENT: "payment_refunded",
    Step.AWARD_POINTS: "points_revoked",
    Step.DISPATCH_ORDER: "dispatch_undone",
}


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
    fulfilment: FulfilmentStyle
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
        fulfilment: FulfilmentStyle = FulfilmentStyle.ORCHESTRATED,
    ) -> Order:
        """A new order at the catalog's current prices; its fulfilment starts with reserving its stock."""
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
            fulfilment=fulfilment,
            status=OrderStatus.PLACED,
            placed_at=at,
            updated_at=at,
        )
        total = order.total  # raises MixedCurrenciesError: one order, one currency
        if total.amount_minor > MAX_TOTAL_MINOR:
            raise OrderTooLargeError(total.amount_minor)
        order._note("placed", None, at)
        order.facts.append(OrderPlaced(order.id, order.customer_id, lines, total, at))
        if fulfilment is FulfilmentStyle.CHOREOGRAPHED:
            # Nobody drives it: this fact is what the warehouse, payment and loyalty react to.
            order.facts.append(FulfilmentRequested(order.id, order.customer_id, lines, total, at))
        return order

    @property
    def total(self) -> Money:
        """What the order costs: its lines at the prices it was placed at."""
        first, *rest = (line.total for line in self.lines)
        return sum(rest, first)

    @property
    def payment_may_be_asked(self) -> bool:
        """Whether payment may still be asked for, so the card must be kept until it is answered."""
        return self.status in (OrderStatus.PLACED, OrderStatus.STOCK_RESERVED)

    # -- on what the fulfilment tells (order.fulfilment, order.choreography) ---------------------------

    def reserve(self, *, at: datetime) -> None:
        """Record that the warehouse holds the order's stock: payment is next."""
        if self.status is OrderStatus.PLACED:
            self._move(OrderStatus.STOCK_RESERVED, "stock_reserved", None, at)
        elif self.status in LET_GO:
            # Cancelled while the reservation was under way: the saga releases it.
            self._note("stock_reserved_after_end", "the stock is released again", at)

    def reject_for_shortage(self, shortages: str, *, at: datetime) -> None:
        """Reject the order: the warehouse could not hold every line."""
        if self.status is OrderStatus.PLACED:
            self._reject(RejectionReason.OUT_OF_STOCK, f"not enough stock: {shortages}", at)

    def pay(self, *, at: datetime) -> None:
        """Record that payment charged the card: points and dispatch are next."""
        if self.status is OrderStatus.STOCK_RESERVED:
            self._move(OrderStatus.PAID, "payment_taken", None, at)
        elif self.status in LET_GO:
            # Cancelled while payment was under way: the saga refunds it.
            self._note("payment_taken_after_end", "the payment is refunded", at)

    def reject_for_payment(self, reason: RejectionReason, detail: str, *, at: datetime) -> None:
        """Reject the order: payment was declined by the card's bank, or failed at the provider."""
        if self.status is OrderStatus.STOCK_RESERVED:
            self._reject(reason, detail, at)

    def reject_for_silence(self, step: Step, detail: str, *, at: datetime) -> None:
        """Reject the order: a partner stayed silent through every attempt before payment."""
        if step is Step.RESERVE_STOCK and self.status is OrderStatus.PLACED:
            self._reject(RejectionReason.WAREHOUSE_UNAVAILABLE, f"the warehouse did not answer ({detail})", at)
        elif step is Step.TAKE_PAYMENT and self.status is OrderStatus.STOCK_RESERVED:
            self._reject(RejectionReason.PAYMENT_UNAVAILABLE, f"payment did not answer ({detail})", at)

    def award_points(self, points: int, *, at: datetime) -> None:
        """Record the ``points`` loyalty awarded the customer for the order."""
        self.points = points
        self._note("points_awarded", f"{points} points", at)

    def dispatch(self, *, at: datetime) -> None:
        """Record that the parcel left the warehouse, and announce it."""
        if self.status is OrderStatus.PAID:
            self._move(OrderStatus.DISPATCHED, "dispatched", None, at)
            self.facts.append(OrderDispatched(self.id, self.customer_id, self.total, at))

    def note_undone(self, step: Step, detail: str | None, *, at: datetime) -> None:
        """Note that a compensation is done: the stock is back, or the money (or there was nothing to give back)."""
        self._note(UNDONE[step], detail, at)

    def note_retry(self, step: Step, detail: str | None, *, at: datetime) -> None:
        """Note that a step is being tried again after a refusal or a silence."""
        self._note(f"{step}_retried", detail, at)

    def ask_for_attention(self, reason: str | None, *, at: datetime) -> None:
        """Ask a person to look: the saga gave up retrying, and money or goods may be where they should not be."""
        self._note("needs_attention", reason, at)

    # -- the customer ------------------------------------------------------------------------------

    def cancel(self, *, at: datetime) -> None:
        """Cancel at the customer's request, until payment is taken; the saga gives the stock back."""
        if self.status not in CANCELLABLE:
            raise OrderNotCancellableError(self.id, self.status)
        reason = "cancelled by the customer"
        self._move(OrderStatus.CANCELLED, "cancelled", reason, at)
        self.facts.append(OrderCancelled(self.id, self.customer_id, self.total, reason, at))

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
