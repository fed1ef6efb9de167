"""order's repositories: they map its tables (``order.tables``) onto its domain. Nobody else reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from order.cards import CardVault
from order.domain import CardNumber, DeliveryAddress, FulfilmentStyle, Money, OrderLine, OrderNotFoundError, Placement
from order.lifecycle import HistoryEntry, Order, OrderStatus
from order.ports import OrderCursor
from order.tables import order_history, order_lines, orders, payment_cards


def _order_row(order: Order) -> dict[str, object]:
    total = order.total
    delivery = order.delivery
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "idempotency_key": order.placement.idempotency_key,
        "request_fingerprint": order.placement.fingerprint,
        "status": order.status.value,
        "total_minor": total.amount_minor,
        "currency": total.currency,
        "delivery_address_id": delivery.address_id,
        "delivery_name": delivery.name,
        "delivery_lines": list(delivery.lines),
        "delivery_city": delivery.city,
        "delivery_postcode": delivery.postcode,
        "delivery_country": delivery.country,
        "card_last4": order.card_last4,
        "fulfilment": order.fulfilment.value,
        "points_awarded": order.points,
        "placed_at": order.placed_at,
        "updated_at": order.updated_at,
    }


def _line(row: RowMapping) -> OrderLine:
    return OrderLine(
        sku=row["sku"],
        title=row["title"],
        artist=row["artist"],
        quantity=row["quantity"],
        unit_price=Money(row["unit_price_minor"], row["currency"]),
    )


def _order(row: RowMapping, lines: Sequence[OrderLine]) -> Order:
    return Order(
        id=row["id"],
        customer_id=row["customer_id"],
        placement=Placement(row["idempotency_key"], row["request_fingerprint"]),
        lines=tuple(lines),
        delivery=DeliveryAddress(
            address_id=row["delivery_address_id"],
            name=row["delivery_name"],
            lines=tuple(row["delivery_lines"]),
            city=row["delivery_city"],
            postcode=row["delivery_postcode"],
            country=row["delivery_country"],
        ),
        card_last4=row["card_last4"],
        fulfilment=FulfilmentStyle(row["fulfilment"]),
        status=OrderStatus(row["status"]),
        placed_at=row["placed_at"],
        updated_at=row["updated_at"],
        points=row["points_awarded"],
    )


class OrderRepository:
    """Orders, their lines and their history, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: Order) -> bool:
        try:
            # A savepoint: a key taken meanwhile undoes this insert only, and the transaction goes on.
            async with self.session.begin_nested():
                await self.session.execute(insert(orders).values(_order_row(order)))
        except IntegrityError:
            if await self.by_key(order.customer_id, order.placement.idempotency_key) is None:
                raise  # not the key: something else is wrong
            return False
        rows = [
            {
                "order_id": order.id,
                "position": position,
                "sku": line.sku,
                "title": line.title,
                "artist": line.artist,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price.amount_minor,
                "currency": line.unit_price.currency,
            }
            for position, line in enumerate(order.lines)
        ]
        await self.session.execute(insert(order_lines), rows)
        await self._append_history(order)
        return True

    async def get(self, order_id: str, *, for_update: bool = False) -> Order:
        query = select(orders).where(orders.c.id == order_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            raise OrderNotFoundError(order_id)
        return (await self._with_lines([row]))[0]

    async def by_key(self, customer_id: str, idempotency_key: str) -> Order | None:
        query = select(orders).where(orders.c.customer_id == customer_id, orders.c.idempotency_key == idempotency_key)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else (await self._with_lines([row]))[0]

    async def save(self, order: Order) -> None:
        await self.session.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(status=order.status.value, points_awarded=order.points, updated_at=order.updated_at)
        )
        await self._append_history(order)

    async def of_customer(self, customer_id: str, *, after: OrderCursor | None, limit: int) -> list[Order]:
        """Keyset paging on (placed_at, id), newest first: a page stays put while new orders arrive."""
        query = (
            select(orders)
            .where(orders.c.customer_id == customer_id)
            .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                or_(
                    orders.c.placed_at < after.placed_at,
                    and_(orders.c.placed_at == after.placed_at, orders.c.id < after.order_id),
                )
            )
        return await self._with_lines((await self.session.execute(query)).mappings().all())

    async def history(self, order_id: str) -> list[HistoryEntry]:
        query = select(order_history).where(order_history.c.order_id == order_id).order_by(order_history.c.id)
        return [
            HistoryEntry(at=row["at"], status=OrderStatus(row["status"]), event=row["event"], reason=row["reason"])
            for row in (await self.session.execute(query)).mappings()
        ]

    async def fulfilment_of(self, order_id: str) -> FulfilmentStyle | None:
        """How the order is fulfilled, or None if there is no such order: one column, not the whole order."""
        query = select(orders.c.fulfilment).where(orders.c.id == order_id)
        style = (await self.session.execute(query)).scalar_one_or_none()
        return None if style is None else FulfilmentStyle(style)

    async def _with_lines(self, rows: Sequence[RowMapping]) -> list[Order]:
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        # One order (the common case) by equality: IN renders a new statement per execution, not cached.
        which = order_lines.c.order_id == ids[0] if len(ids) == 1 else order_lines.c.order_id.in_(ids)
        query = select(order_lines).where(which).order_by(order_lines.c.order_id, order_lines.c.position)
        lines: dict[str, list[OrderLine]] = {row["id"]: [] for row in rows}
        for line in (await self.session.execute(query)).mappings():
            lines[line["order_id"]].append(_line(line))
        return [_order(row, lines[row["id"]]) for row in rows]

    async def _append_history(self, order: Order) -> None:
        if order.new_history:
            await self.session.execute(
                insert(order_history),
                [
                    {"order_id": order.id, "at": e.at, "status": e.status.value, "event": e.event, "reason": e.reason}
                    for e in order.new_history
                ],
            )
        order.new_history.clear()


class CardTable:
    """Sealed card numbers, within the caller's transaction."""

    def __init__(self, session: AsyncSession, vault: CardVault) -> None:
        self.session = session
        self.vault = vault

    async def keep(self, order_id: str, card: CardNumber) -> None:
        await self.session.execute(
            insert(payment_cards).values(
                order_id=order_id, sealed_card=self.vault.seal(card), kept_at=datetime.now(UTC)
            )
        )

    async def card_of(self, order_id: str) -> CardNumber | None:
        query = select(payment_cards.c.sealed_card).where(payment_cards.c.order_id == order_id)
        sealed = (await self.session.execute(query)).scalar_one_or_none()
        return None if sealed is None else self.vault.open(sealed)

    async def forget(self, order_id: str) -> None:
        await self.session.execute(delete(payment_cards).where(payment_cards.c.order_id == order_id))
