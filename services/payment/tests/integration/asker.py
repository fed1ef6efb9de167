"""A service that sends the payment service its commands and keeps the replies: the order service's side.

It is a paved service of its own (its own database and reply stream), so the replies travel as they
will in the shop: through the payment service's outbox, the broker, and this service's durable consumer.
"""

from __future__ import annotations

from datetime import timedelta

from paved import Service, ServiceSettings
from paved.messaging import Command, Handling, PendingRequest, Reply, messaging_tables
from paved.testing import create_tables
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select

from payment.contract import (
    KeepCard,
    NothingToRefund,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentTaken,
    RefundPayment,
    TakePayment,
)

metadata = MetaData()
answers = Table(
    "answers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("data", JSON, nullable=False),
)
messaging = messaging_tables(metadata)
REPLY_TYPES: tuple[type[Reply], ...] = (PaymentTaken, PaymentDeclined, PaymentFailed, PaymentRefunded, NothingToRefund)


class OrdersSide:
    """Sends commands, and reads the replies that came back, in the order they came."""

    def __init__(self, *, database_url: str, broker_url: str) -> None:
        self.service = Service(
            # The name payment takes commands from (payment.partners.COMMANDS_FROM): envelopes name their sender.
            name="order",
            version="0",
            settings=ServiceSettings(database_url=database_url, broker_url=broker_url),
            messaging=messaging,
        )
        self.service.messaging.sends(TakePayment, KeepCard, RefundPayment)
        self.requests = self.service.messaging.send_commands()
        for reply_type in REPLY_TYPES:
            self.requests.on_reply(reply_type)(self._keep)

    @staticmethod
    async def _keep(handling: Handling, reply: Reply, request: PendingRequest) -> None:
        data = reply.model_dump(mode="json")
        row = {"order_id": data["order_id"], "type": reply.message_type.removeprefix("payment."), "data": data}
        await handling.session.execute(insert(answers).values(row))

    async def create_tables(self) -> None:
        await create_tables(str(self.service.settings.database_url), metadata)

    async def send(self, command: Command) -> str:
        """Send ``command`` on its subject, as the order service would; returns its message id."""
        async with self.service.database.transaction() as session:
            envelope = await self.requests.send(session, command, deadline=timedelta(minutes=5))
        return envelope.id

    async def answers(self, order_id: str) -> list[tuple[str, dict[str, object]]]:
        """The replies about ``order_id``: (type, data), in the order they arrived."""
        async with self.service.database.read() as session:
            rows = await session.execute(select(answers).where(answers.c.order_id == order_id).order_by(answers.c.seq))
            return [(row.type, row.data) for row in rows]
