from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from paved_platform.testing import TestBroker
from sqlalchemy import Column, MetaData, String, Table, insert, select

from paved import Service
from paved.messaging import Command, Handling, PendingRequest, Reply, Stream, messaging_tables
from paved.testing import create_tables
from shop import declare, eventually, messaging_service

STOCK_COMMANDS = Stream("STOCK_COMMANDS", subjects=["stock.commands.>"])


class ReserveStock(Command, type="stock.ReserveStock", version=1):
    order_id: str
    sku: str


class StockReserved(Reply, type="stock.StockReserved", version=1):
    order_id: str


asker_metadata = MetaData()
outcomes = Table(
    "outcomes", asker_metadata, Column("order_id", String), Column("outcome", String), Column("by", String)
)
asker_messaging = messaging_tables(asker_metadata)
stock_metadata = MetaData()
stock_messaging = messaging_tables(stock_metadata)


def asker(instance: str, *, database_url: str, broker_url: str) -> Service:
    """An instance of the asking service; every instance shares the service's database."""
    service = messaging_service("orders", asker_messaging, database_url=database_url, broker_url=broker_url)
    service.messaging.sends(ReserveStock)
    requests = service.messaging.send_commands()

    @requests.on_reply(StockReserved)
    async def reserved(handling: Handling, reply: StockReserved, request: PendingRequest) -> None:
        await handling.session.execute(
            insert(outcomes).values(order_id=reply.order_id, outcome="reserved", by=instance)
        )

    @requests.on_timeout(ReserveStock)
    async def gave_up(handling: Handling, request: PendingRequest) -> None:
        await handling.session.execute(
            insert(outcomes).values(order_id=request.correlation_id, outcome="timed out", by=instance)
        )

    return service


# What the stock service carried out, by order id.
carried_out: list[str] = []


def stock(*, database_url: str, broker_url: str) -> Service:
    service = messaging_service("stock", stock_messaging, database_url=database_url, broker_url=broker_url)
    commands = service.messaging.consumer(
        "stock-commands", stream=service.messaging.own(STOCK_COMMANDS), subjects=["stock.commands.>"]
    )

    @commands.handles(ReserveStock, senders=["orders"])
    async def reserve(handling: Handling, command: ReserveStock) -> None:
        carried_out.append(command.order_id)
        await handling.reply(StockReserved(order_id=command.order_id))

    return service


@pytest.fixture
async def urls(tmp_path: Path, any_broker: TestBroker) -> tuple[str, str]:
    asker_url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    stock_url = f"sqlite+aiosqlite:///{tmp_path}/stock.db"
    await create_tables(asker_url, asker_metadata)
    await create_tables(stock_url, stock_metadata)
    # The command's stream and consumer exist before anyone asks, as `paved prepare` makes them.
    await declare(any_broker.url, stock(database_url=stock_url, broker_url=any_broker.url))
    return asker_url, stock_url


async def recorded(service: Service) -> list[tuple[str, str, str]]:
    async with service.database.read() as session:
        return [tuple(row) for row in (await session.execute(select(outcomes))).all()]


async def test_the_reply_reaches_another_instance_which_continues(
    any_broker: TestBroker, urls: tuple[str, str]
) -> None:
    """Instance A asks and stops; the reply comes while only B runs, and B continues from the database."""
    asker_url, stock_url = urls
    first = asker("A", database_url=asker_url, broker_url=any_broker.url)
    async with first.running():
        assert first.messaging and first.messaging.requests
        async with first.database.transaction() as session:
            await first.messaging.requests.send(
                session, ReserveStock(order_id="o-1", sku="ALB-00001"), deadline=timedelta(seconds=60)
            )

        async def sent() -> bool:
            return await first.messaging.outbox.pending() == 0  # type: ignore[union-attr]

        assert await eventually(sent)
    second = asker("B", database_url=asker_url, broker_url=any_broker.url)
    async with second.running(), stock(database_url=stock_url, broker_url=any_broker.url).running():

        async def continued() -> list:
            return await recorded(second)

        assert await eventually(continued) == [("o-1", "reserved", "B")]


async def test_no_reply_by_the_deadline_times_out_once_and_the_late_command_is_not_carried_out(
    any_broker: TestBroker, urls: tuple[str, str]
) -> None:
    """With two instances watching, a request past its deadline times out exactly once; the command, taken
    after its deadline, is not carried out, and paved's answer that says so (DeadlineExpired) changes nothing."""
    asker_url, stock_url = urls
    a = asker("A", database_url=asker_url, broker_url=any_broker.url)
    b = asker("B", database_url=asker_url, broker_url=any_broker.url)
    async with a.running(), b.running():
        assert a.messaging and a.messaging.requests
        async with a.database.transaction() as session:
            sent = await a.messaging.requests.send(
                session, ReserveStock(order_id="o-2", sku="ALB-00002"), deadline=timedelta(milliseconds=300)
            )

        async def timed_out() -> list:
            return await recorded(a)

        outcome = await eventually(timed_out)
        assert [(order, what) for order, what, _ in outcome] == [(sent.correlation_id, "timed out")]
        async with stock(database_url=stock_url, broker_url=any_broker.url).running():
            await asyncio.sleep(2)  # the stock service takes the command now, too late
        assert [(order, what) for order, what, _ in await recorded(a)] == [(sent.correlation_id, "timed out")]
    assert "o-2" not in carried_out
