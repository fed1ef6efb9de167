"""The services' answers as the pages show them: from the partners' shapes into the BFF's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from web_bff import domain
from web_bff.contract import (
    Address,
    Available,
    Delivery,
    HistoryItem,
    Money,
    OrderDetails,
    OrderLine,
    OrderSummary,
    PaymentSummary,
    Points,
    PointsEntry,
    Profile,
    Step,
    Unavailable,
)
from web_bff.fanout import Missing
from web_bff.partners import (
    Amount,
    CustomerAddress,
    CustomerProfile,
    LoyaltyStatement,
    OrderHistoryEntry,
    OrderRecord,
    PaymentRecord,
)

T = TypeVar("T")
U = TypeVar("U")

# An order summary names this many of its albums; the order's own page shows them all.
SUMMARY_TITLES = 3


def money(amount: Amount | domain.Money) -> Money:
    return Money(amount_minor=amount.amount_minor, currency=amount.currency)


def order_details(order: OrderRecord, *, history: list[OrderHistoryEntry] | None = None) -> OrderDetails:
    """The order as its page shows it; its progress is the more exact for its ``history``."""
    progress = domain.progress_of(order.status, (entry.status for entry in history or []))
    delivery = order.delivery_address
    return OrderDetails(
        id=order.id,
        status=order.status,
        status_label=domain.status_label(order.status),
        can_cancel=domain.can_cancel(order.status),
        progress=[Step(status=step.status, label=step.label, reached=step.reached) for step in progress],
        lines=[
            OrderLine(
                sku=line.sku,
                title=line.title,
                artist=line.artist,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                total=money(line.total),
            )
            for line in order.lines
        ],
        total=money(order.total),
        delivery=Delivery(
            name=delivery.name,
            lines=delivery.lines,
            city=delivery.city,
            postcode=delivery.postcode,
            country=delivery.country,
        ),
        card_last4=order.card_last4,
        points_awarded=order.points_awarded,
        placed_at=order.placed_at,
        updated_at=order.updated_at,
    )


def order_summary(order: OrderRecord) -> OrderSummary:
    """One row of a list of orders."""
    return OrderSummary(
        id=order.id,
        status=order.status,
        status_label=domain.status_label(order.status),
        placed_at=order.placed_at,
        total=money(order.total),
        item_count=sum(line.quantity for line in order.lines),
        titles=[line.title for line in order.lines[:SUMMARY_TITLES]],
    )


def history_item(entry: OrderHistoryEntry) -> HistoryItem:
    return HistoryItem(
        at=entry.at,
        status=entry.status,
        status_label=domain.status_label(entry.status),
        event=entry.event,
        reason=entry.reason,
    )


def payment_summary(payment: PaymentRecord) -> PaymentSummary:
    return PaymentSummary(
        status=payment.status,
        amount=Money(amount_minor=payment.amount_minor, currency=payment.currency),
        card_last4=payment.card_last4,
        decline_code=payment.decline_code,
        failure_reason=payment.failure_reason,
        updated_at=payment.updated_at,
    )


def profile(found: CustomerProfile) -> Profile:
    return Profile(display_name=found.display_name, email=found.email, registered_at=found.registered_at)


def address(found: CustomerAddress) -> Address:
    return Address(
        id=found.id, name=found.name, lines=found.lines, city=found.city, postcode=found.postcode, country=found.country
    )


def points(statement: LoyaltyStatement) -> Points:
    return Points(
        balance=statement.balance,
        recent=[
            PointsEntry(order_id=entry.order_id, kind=entry.kind, points=entry.points, recorded_at=entry.recorded_at)
            for entry in statement.entries
        ],
    )


def part(found: T | Missing, shape: Callable[[T], U]) -> Available[U] | Unavailable:
    """A part of a page: its data shaped for the page, or unavailable, saying which service and why."""
    if isinstance(found, Missing):
        return Unavailable(service=found.service, reason=found.reason)
    return Available(data=shape(found))
