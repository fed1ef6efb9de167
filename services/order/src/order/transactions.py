"""order's store in one transaction: its repositories, its facts and its fulfilment over one session.

HTTP use cases open their transactions through ``DatabaseUnitOfWork``; a saga's change comes with the
transaction paved opened for it (``store_in(session)``), which also records the saga's progress.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from paved import Database
from paved.messaging import Outbox
from paved.sagas import Orchestrator
from sqlalchemy.ext.asyncio import AsyncSession

from order import partners
from order.cards import CardVault
from order.domain import CardNumber
from order.facts import Fact
from order.fulfilment import saga_data
from order.lifecycle import Order
from order.messages import Announcer
from order.store import CardTable, OrderRepository


class DatabaseStore:
    """order's tables, facts and fulfilment within one session's transaction."""

    def __init__(self, session: AsyncSession, *, uow: DatabaseUnitOfWork) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.cards = CardTable(session, uow.vault)
        self._announcer = Announcer(session, outbox=uow.outbox)
        self._uow = uow

    async def announce(self, fact: Fact) -> None:
        await self._announcer.announce(fact)

    async def hand_card_to_payment(self, order: Order, card: CardNumber) -> None:
        total = order.total
        keep = partners.KeepCard(
            order_id=order.id,
            customer_id=order.customer_id,
            amount_minor=total.amount_minor,
            currency=total.currency,
            card_number=card.digits,
        )
        await self._announcer.hand_card_to_payment(order.id, keep)

    async def start_fulfilment(self, order: Order) -> None:
        await self._uow.fulfilment.start(self.session, order.id, saga_data(order))

    async def cancel_fulfilment(self, order: Order, *, reason: str) -> None:
        await self._uow.fulfilment.cancel(self.session, order.id, reason=reason)


class DatabaseUnitOfWork:
    """Transactions on order's database, each with a ``DatabaseStore``."""

    def __init__(self, database: Database, *, vault: CardVault, outbox: Outbox) -> None:
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
