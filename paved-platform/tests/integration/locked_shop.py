"""Two services as the locked-broker tests run them: the warehouse takes order's ReserveStock and answers it."""

from __future__ import annotations

from paved import Service, ServiceSettings
from paved.messaging import Command, Handling, PendingRequest, Reply, Stream, messaging_tables
from sqlalchemy import MetaData

WAREHOUSE_EVENTS = Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"])
WAREHOUSE_COMMANDS = Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"])
ORDER_EVENTS = Stream("ORDER_EVENTS", subjects=["order.events.>"])


class ReserveStock(Command, type="warehouse.ReserveStock", version=1):
    order_id: str


class StockReserved(Reply, type="warehouse.StockReserved", version=1):
    order_id: str


# Where a service built only to read its declarations keeps nothing.
NOWHERE = "sqlite+aiosqlite:///:memory:"
warehouse_metadata, order_metadata = MetaData(), MetaData()
warehouse_tables, order_tables = messaging_tables(warehouse_metadata), messaging_tables(order_metadata)


def warehouse(*, database_url: str, broker_url: str, reserved: list[str]) -> Service:
    failed: set[str] = set()
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = Service(name="warehouse", version="0", settings=settings, messaging=warehouse_tables)
    service.messaging.own(WAREHOUSE_EVENTS)
    stream = service.messaging.own(WAREHOUSE_COMMANDS)
    commands = service.messaging.consumer("warehouse-commands", stream=stream, subjects=stream.subjects)

    @commands.handles(ReserveStock, senders=["order"])
    async def reserve(handling: Handling, command: ReserveStock) -> None:
        if command.order_id.startswith("fails-once") and command.order_id not in failed:
            failed.add(command.order_id)  # its retry waits, then comes back: those hops need permissions too
            raise RuntimeError("the first attempt fails")
        reserved.append(command.order_id)
        await handling.reply(StockReserved(order_id=command.order_id))

    return service


def order(*, database_url: str, broker_url: str, answered: list[str]) -> Service:
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = Service(name="order", version="0", settings=settings, messaging=order_tables)
    service.messaging.own(ORDER_EVENTS)
    service.messaging.sends(ReserveStock)
    requests = service.messaging.send_commands()

    @requests.on_reply(StockReserved)
    async def reserved(handling: Handling, reply: StockReserved, request: PendingRequest) -> None:
        answered.append(reply.order_id)

    return service


def declarations() -> list[Service]:
    """The two services, built only to read what they declare."""
    return [
        warehouse(database_url=NOWHERE, broker_url="", reserved=[]),
        order(database_url=NOWHERE, broker_url="", answered=[]),
    ]
