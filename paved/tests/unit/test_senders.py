"""Who sent a message: the envelope names its sender, a service declares the commands it sends and whose
commands it takes, and its broker user is made from those declarations."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from paved import Envelope, Service, ServiceSettings
from paved.messaging import (
    Command,
    Consumer,
    Event,
    Handling,
    Reply,
    Stream,
    UndeclaredCommandError,
    messaging_tables,
    nats_permissions,
)
from paved.testing import RecordingOutbox


class ReserveStock(Command, type="warehouse.ReserveStock", version=1):
    order_id: str


class ChargeCard(Command, type="payment.ChargeCard", version=1):
    order_id: str


class StockReserved(Reply, Event, type="warehouse.StockReserved", version=1):
    order_id: str


# Neither writer used here touches a session.
NO_SESSION = cast(AsyncSession, None)


async def nothing(handling: Handling, command: Command) -> None:
    """A handler that does nothing."""


def service(name: str) -> Service:
    settings = ServiceSettings(database_url="sqlite+aiosqlite:///:memory:", broker_url="memory://unused")
    return Service(name=name, version="0", settings=settings, messaging=messaging_tables(MetaData()))


def test_an_envelope_written_before_senders_were_named_reads_as_from_an_unknown_sender() -> None:
    """A message already in a stream or an outbox has no sender: it still parses, its sender unknown."""
    old = b'{"id":"m-1","type":"warehouse.ReserveStock","version":1,"correlation_id":"c","data":{"order_id":"o"}}'
    assert Envelope.from_bytes(old).sender is None
    new = ReserveStock(order_id="o").envelope(sender="order")
    assert Envelope.from_bytes(new.to_bytes()).sender == "order"
    assert new.headers()["Paved-Sender"] == "order"


async def test_the_outbox_names_its_service_as_the_sender_of_what_it_writes() -> None:
    """Every message a service's outbox writes, an answer too, names that service as its sender."""
    assert service("order").messaging.outbox.sender == "order"
    outbox = RecordingOutbox()
    outbox.sender = "order"  # as the service's outbox is made
    sent = await outbox.put(NO_SESSION, ReserveStock(order_id="o-1"), reply_to="order.replies")
    await outbox.reply(NO_SESSION, sent.asker, StockReserved(order_id="o-1"))
    assert [(s.subject, s.envelope.sender) for s in outbox.sent] == [
        ("warehouse.commands.reserve-stock", "order"),
        ("order.replies", "order"),
    ]


async def test_a_command_the_service_does_not_declare_is_refused_by_its_outbox() -> None:
    """Only the declared commands go into the outbox: another is refused in the sender's transaction, by name."""
    messaging = service("order").messaging
    messaging.sends(ReserveStock)
    with pytest.raises(UndeclaredCommandError, match=r"payment.ChargeCard.*sends\(ChargeCard"):
        await messaging.outbox.put(NO_SESSION, ChargeCard(order_id="o-1"))
    # A writer of a test's own keeps no declaration: it checks nothing.
    await RecordingOutbox().put(NO_SESSION, ChargeCard(order_id="o-1"))


def test_a_command_handler_names_who_may_send_it() -> None:
    """A command is taken from no one by default: its handler must name the senders; an event's names none."""
    consumer = Consumer(name="warehouse-commands", stream="WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"])
    with pytest.raises(ValueError, match="name the services that may send it"):
        consumer.handles(ReserveStock)
    with pytest.raises(ValueError, match="not a command"):
        consumer.handles(StockReserved, senders=["warehouse"])

    consumer.handles(ReserveStock, senders=["order"])(nothing)
    assert consumer.senders == {ReserveStock: frozenset({"order"})}


def test_a_services_broker_access_follows_from_its_declarations() -> None:
    """The warehouse publishes its events and answers its one sender, reads its commands, and never
    publishes on its own command stream; order publishes the commands it declared, and its events."""
    warehouse = service("warehouse").messaging
    warehouse.own(Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"]))
    commands = warehouse.own(Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"]))
    consumer = warehouse.consumer("warehouse-commands", stream=commands, subjects=commands.subjects)
    consumer.handles(ReserveStock, senders=["order"])(nothing)
    access = warehouse.access()
    assert access.publishes == ["order.replies", "warehouse.events.>"]
    assert access.streams == ["WAREHOUSE_EVENTS", "WAREHOUSE_COMMANDS"]
    assert access.consumers == [("WAREHOUSE_COMMANDS", "warehouse-commands")]

    order = service("order").messaging
    order.own(Stream("ORDER_EVENTS", subjects=["order.events.>"]))
    order.sends(ReserveStock)
    order.send_commands()
    assert order.access().publishes == ["order.events.>", "warehouse.commands.reserve-stock"]

    permissions = nats_permissions(access)
    assert permissions["subscribe"] == {"allow": ["_INBOX_warehouse.>"]}
    allowed = permissions["publish"]["allow"]
    assert "$JS.API.CONSUMER.MSG.NEXT.WAREHOUSE_COMMANDS.warehouse-commands" in allowed
    assert "$JS.ACK.WAREHOUSE_COMMANDS.warehouse-commands.>" in allowed
    assert "$JS.API.STREAM.CREATE.WAREHOUSE_EVENTS" in allowed
    assert "$JS.API.STREAM.INFO.PAVED_DLQ" in allowed
    assert "$JS.API.STREAM.CREATE.PAVED_DLQ" not in allowed  # the platform's to make
    assert not [subject for subject in allowed if subject.startswith("warehouse.commands")]
