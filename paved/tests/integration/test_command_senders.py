"""A command is carried out only when its envelope names a service allowed to send it, on every broker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from paved_platform.testing import TestBroker
from sqlalchemy import MetaData

from paved import Service
from paved.messaging import Command, Handling, Outgoing, Reply, Stream, connected, messaging_tables
from paved.testing import create_tables
from shop import dead_letters, declare, eventually, messaging_service

STOCK_COMMANDS = Stream("STOCK_COMMANDS", subjects=["stock.commands.>"])


class ReserveStock(Command, type="stock.ReserveStock", version=1):
    order_id: str


class StockReserved(Reply, type="stock.StockReserved", version=1):
    order_id: str


asker_metadata, stock_metadata = MetaData(), MetaData()
asker_messaging, stock_messaging = messaging_tables(asker_metadata), messaging_tables(stock_metadata)


def stock(*, database_url: str, broker_url: str, carried_out: list[str]) -> Service:
    """Reserves stock for the orders service's commands, and for no one else's."""
    service = messaging_service("stock", stock_messaging, database_url=database_url, broker_url=broker_url)
    commands = service.messaging.consumer(
        "stock-commands", stream=service.messaging.own(STOCK_COMMANDS), subjects=STOCK_COMMANDS.subjects
    )

    @commands.handles(ReserveStock, senders=["orders"])
    async def reserve(handling: Handling, command: ReserveStock) -> None:
        carried_out.append(command.order_id)
        await handling.reply(StockReserved(order_id=command.order_id))

    return service


def orders(*, database_url: str, broker_url: str) -> Service:
    service = messaging_service("orders", asker_messaging, database_url=database_url, broker_url=broker_url)
    service.messaging.sends(ReserveStock)
    service.messaging.send_commands()
    return service


async def test_a_command_from_a_sender_not_allowed_or_unknown_is_parked_and_never_carried_out(
    any_broker: TestBroker, tmp_path: Path
) -> None:
    """The orders service's command is carried out; the same command forged as the payments service's, and
    one naming no sender, reach the consumer but are parked with the reason, counted, and never handled."""
    stock_url, asker_url = f"sqlite+aiosqlite:///{tmp_path}/stock.db", f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    await create_tables(stock_url, stock_metadata)
    await create_tables(asker_url, asker_metadata)
    carried_out: list[str] = []
    stocker = stock(database_url=stock_url, broker_url=any_broker.url, carried_out=carried_out)
    asker = orders(database_url=asker_url, broker_url=any_broker.url)
    await declare(any_broker.url, stocker)
    await declare(any_broker.url, asker)
    forged = [
        ReserveStock(order_id="forged").envelope(sender="payments", reply_to="orders.replies"),
        ReserveStock(order_id="anonymous").envelope(),
    ]
    async with connected(any_broker.url) as transport:
        subject = ReserveStock.message_subject
        assert subject is not None
        await transport.publish([Outgoing(e.id, subject, e.to_bytes(), e.headers()) for e in forged])
    async with stocker.running(), asker.running():
        assert asker.messaging.requests is not None
        async with asker.database.transaction() as session:
            await asker.messaging.requests.send(session, ReserveStock(order_id="real"), deadline=timedelta(seconds=30))

        async def both_parked() -> list[str]:
            # Only the stock's: the orders service here asks and never reads its replies, which park too.
            letters = [letter for letter in await dead_letters(any_broker.url) if letter.consumer == "stock-commands"]
            reasons = sorted(letter.reason for letter in letters)
            return reasons if len(reasons) == 2 else []

        async def handled() -> list[str]:
            return list(carried_out)

        reasons = await eventually(both_parked)
        assert await eventually(handled) == ["real"]
        refused = stocker.metrics.registry.get_sample_value(
            "messages_refused_total", {"consumer": "stock-commands", "message_type": "stock.ReserveStock"}
        )
    assert reasons == [
        "refused: stock.ReserveStock from 'payments'; only orders may send it",
        "refused: stock.ReserveStock from an unknown sender; only orders may send it",
    ]
    assert refused == 2
