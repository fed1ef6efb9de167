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
    PricedBasket,
    PricedLine,
    ProductCard,
    Profile,
    Step,
    Tokens,
    Unavailable,
)
from web_bff.fanout import Missing
from web_bff.partners import (
    Amount,
    CatalogAlbum,
    CustomerAddress,
    CustomerProfile,
    IdentityTokens,
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


def tokens(found: IdentityTokens) -> Tokens:
    return Tokens(
        access_token=found.access_token,
        token_type=found.token_type,
        expires_in=found.expires_in,
        scope=found.scope,
        refresh_token=found.refresh_token,
    )


def album(found: CatalogAlbum) -> domain.Album:
    """The catalog's album as the basket prices it."""
    price = domain.Money(found.price.amount_minor, found.price.currency)
    return domain.Album(sku=found.sku, title=found.title, artist=found.artist, price=price)


def _available(stock: dict[str, int] | Missing, sku: str) -> int | None:
    return None if isinstance(stock, Missing) else stock.get(sku)


def product_card(found: CatalogAlbum, stock: dict[str, int] | Missing) -> ProductCard:
    """One album of the product grid, with its availability (``unknown`` when the stock is missing)."""
    available = _available(stock, found.sku)
    availability = domain.availability_of(available)
    return ProductCard(
        sku=found.sku,
        title=found.title,
        artist=found.artist,
        genre=found.genre,
        released=found.released,
        price=money(found.price),
        availability=availability,
        units_left=available if availability is domain.Availability.LOW_STOCK else None,
    )


def priced_basket(priced: domain.PricedBasket, stock: dict[str, int] | Missing) -> PricedBasket:
    """The priced basket as the page shows it, each line with its availability."""
    return PricedBasket(
        lines=[
            PricedLine(
                sku=line.album.sku,
                title=line.album.title,
                artist=line.album.artist,
                quantity=line.quantity,
                unit_price=money(line.album.price),
                total=money(line.total),
                availability=domain.availability_of(_available(stock, line.album.sku)),
            )
            for line in priced.lines
        ],
        unknown_skus=list(priced.unknown_skus),
        total=money(priced.total) if priced.total is not None else None,
        unavailable=unavailable(stock),
    )


def unavailable(*parts: object) -> list[Unavailable]:
    """The parts of a page that are missing, for its ``unavailable`` list."""
    return [Unavailable(service=found.service, reason=found.reason) for found in parts if isinstance(found, Missing)]


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
