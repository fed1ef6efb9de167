"""order's store in one transaction: its repositories and its messages over one session.

HTTP use cases open their transactions through ``DatabaseUnitOfWork``; a consumed reply or a timeout
comes with the transaction paved opened for it (``store_in(handling.session, ...)``), which also
records the message as handled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from paved import Database, Envelope
from paved.messaging import Outbox, Requests
from sqlalchemy.ext.asyncio import AsyncSession

from order.cards import CardVault
from order.domain import Send
from order.facts import Fact
from order.lifecycle import Order
from order.messages import Deadlines, Messenger
from order.ports import SentCommand
from order.store import CardTable, CommandLog, OrderRepository


class DatabaseStore:
    """order's tables and messages within one session's transaction."""

    def __init__(self, session: AsyncSession, *, uow: DatabaseUnitOfWork, caused_by: Envelope | None = None) -> None:
        self.orders = OrderRepository(session)
        self.cards = CardTable(session, uow.vault)
        self._log = CommandLog(session)
        self._messenger = Messenger(
            session,
            requests=uow.requests,
            outbox=uow.outbox,
            log=self._log,
            cards=self.cards,
            deadlines=uow.deadlines,
            clock=uow.clock,
            caused_by=caused_by,
        )

    async def send(self, order: Order, command: Send) -> None:
        await self._messenger.send(order, command)

    async def announce(self, fact: Fact) -> None:
        await self._messenger.announce(fact)

    async def sent_command(self, request_id: str) -> SentCommand | None:
        return await self._log.find(request_id)


class DatabaseUnitOfWork:
    """Transactions on order's database, each with a ``DatabaseStore``."""

    def __init__(
        self,
        database: Database,
        *,
        vault: CardVault,
        requests: Requests,
        outbox: Outbox,
        deadlines: Deadlines,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.vault = vault
        self.requests = requests
        self.outbox = outbox
        self.deadlines = deadlines
        self.clock = clock

    def store_in(self, session: AsyncSession, *, caused_by: Envelope | None = None) -> DatabaseStore:
        """The store in ``session``'s transaction; what it sends is caused by ``caused_by``, if given."""
        return DatabaseStore(session, uow=self, caused_by=caused_by)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.read() as session:
            yield self.store_in(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[DatabaseStore]:
        async with self.database.transaction() as session:
            yield self.store_in(session)
