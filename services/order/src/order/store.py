"""order's store: repositories that map its tables (``order.tables``) onto its domain, and the unit of work
that gives the use cases its repositories, facts and fulfilment over one transaction. Nobody else reads
the tables.

HTTP use cases open their transactions through ``DatabaseUnitOfWork``; a saga's change, or a partner's
event, comes with the transaction paved opened for it (``store_in(session)``), which also records the
saga's progress or the event's handling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from paved import Database, utc_now
from paved.messaging import Announcer, MessageWriter
from paved.sagas import Orchestrator
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from order import announcements, partners
from order.cards import CardVault
from order.domain import CardNumber, DeliveryAddress, FulfilmentStyle, Money, OrderLine, OrderNotFoundError, Placement
from order.facts import Fact
from order.fulfilment import saga_data
from order.lifecycle import HistoryEntry, Order, OrderStatus
from order.ports import OrderCursor
from order.tables import order_history, order_lines, orders, payment_cards

# Built once: building a statement per call cost about a quarter of a service's CPU under load, more than
# SQLite spent running it (bench/README.md, issue 5). What varies is bound at execution.
_ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
_ORDER_FOR_UPDATE = _ORDER.with_for_update()
_ORDER_BY_KEY = select(orders).where(
    orders.c.customer_id == bindparam("customer_id"), orders.c.idempotency_key == bindparam("key")
)
_FULFILMENT_OF = select(orders.c.fulfilment).where(orders.c.id == bindparam("order_id"))
_SAVE_ORDER = (
    update(orders)
    .where(orders.c.id == bindparam("order_id"))
    .values(status=bindparam("status"), points_awarded=bindparam("points"), updated_at=bindparam("at"))
)
_LINES_OF = (
    select(order_lines)
    .where(order_lines.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(order_lines.c.order_id, order_lines.c.position)
)
_INSERT_ORDER, _INSERT_LINES, _INSERT_HISTORY = insert(orders), insert(order_lines), insert(order_history)
_KEEP_CARD = insert(payment_cards)
_CARD_OF = select(payment_cards.c.sealed_card).where(payment_cards.c.order_id == bindparam("order_id"))
_FORGET_CARD = delete(payment_cards).where(payment_cards.c.order_id == bindparam("order_id"))


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
                await self.session.execute(_INSERT_ORDER, _order_row(order))
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
        await self.session.execute(_INSERT_LINES, rows)
        await self._append_history(order)
        return True

    async def get(self, order_id: str, *, for_update: bool = False) -> Order:
        query = _ORDER_FOR_UPDATE if for_update else _ORDER
        row = (await self.session.execute(query, {"order_id": order_id})).mappings().first()
        if row is None:
            raise OrderNotFoundError(order_id)
        return (await self._with_lines([row]))[0]

    async def by_key(self, customer_id: str, idempotency_key: str) -> Order | None:
        found = await self.session.execute(_ORDER_BY_KEY, {"customer_id": customer_id, "key": idempotency_key})
        row = found.mappings().first()
        return None if row is None else (await self._with_lines([row]))[0]

    async def save(self, order: Order) -> None:
        await self.session.execute(
            _SAVE_ORDER,
            {"order_id": order.id, "status": order.status.value, "points": order.points, "at": order.updated_at},
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
        style = (await self.session.execute(_FULFILMENT_OF, {"order_id": order_id})).scalar_one_or_none()
        return None if style is None else FulfilmentStyle(style)

    async def _with_lines(self, rows: Sequence[RowMapping]) -> list[Order]:
        if not rows:
            return []
        found = await self.session.execute(_LINES_OF, {"order_ids": [row["id"] for row in rows]})
        lines: dict[str, list[OrderLine]] = {row["id"]: [] for row in rows}
        for line in found.mappings():
            lines[line["order_id"]].append(_line(line))
        return [_order(row, lines[row["id"]]) for row in rows]

    async def _append_history(self, order: Order) -> None:
        if order.new_history:
            await self.session.execute(
                _INSERT_HISTORY,
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
        row = {"order_id": order_id, "sealed_card": self.vault.seal(card), "kept_at": utc_now()}
        await self.session.execute(_KEEP_CARD, row)

    async def card_of(self, order_id: str) -> CardNumber | None:
        sealed = (await self.session.execute(_CARD_OF, {"order_id": order_id})).scalar_one_or_none()
        return None if sealed is None else self.vault.open(sealed)

    async def forget(self, order_id: str) -> None:
        await self.session.execute(_FORGET_CARD, {"order_id": order_id})


class DatabaseStore:
    """order's tables, facts and fulfilment within one session's transaction."""

    def __init__(self, session: AsyncSession, *, uow: DatabaseUnitOfWork) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.cards = CardTable(session, uow.vault)
        self._outbox = uow.outbox
        self._announce = Announcer(
            session, uow.outbox, event_of=announcements.event_of, correlation_of=announcements.correlation_of
        )
        self._uow = uow

    async def announce(self, fact: Fact) -> None:
        await self._announce(fact)

    async def hand_card_to_payment(self, order: Order, card: CardNumber) -> None:
        total = order.total
        keep = partners.KeepCard(
            order_id=order.id,
            customer_id=order.customer_id,
            amount_minor=total.amount_minor,
            currency=total.currency,
            card_number=card.digits,
        )
        await self._outbox.put(self.session, keep, correlation_id=order.id)

    async def start_fulfilment(self, order: Order) -> None:
        await self._uow.fulfilment.start(self.session, order.id, saga_data(order))

    async def cancel_fulfilment(self, order: Order, *, reason: str) -> None:
        await self._uow.fulfilment.cancel(self.session, order.id, reason=reason)


class DatabaseUnitOfWork:
    """Transactions on order's database, each with a ``DatabaseStore``."""

    def __init__(self, database: Database, *, vault: CardVault, outbox: MessageWriter) -> None:
        self.database = database
        self.vault = vault
        self.outbox = outbox
        self._fulfilment: Orchestrator | None = None

    @property
    def fulfilment(self) -> Orchestrator:
        assert self._fulfilment is not None, "wired by create_service"
        return self._fulfilment

    @fulfilment.setter
    def fulfilment(self, orchestrator: Orchestrator) -> None:
        # Set after building: the orchestrator tells orders of its changes through this unit of work.
        self._fulfilment = orchestrator

    def store_in(self, session: AsyncSession) -> DatabaseStore:
        """The store in ``session``'s transaction."""
        return DatabaseStore(session, uow=self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.read() as session:
            yield self.store_in(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.transaction() as session:
            yield self.store_in(session)
