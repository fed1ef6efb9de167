"""The locked broker, on a real nats-server: a user per service with the permissions its declarations give,
so that a service does its work and nothing else, and a process without credentials does nothing at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import nats
import nats.errors
import pytest
from paved.messaging import connected, nats_permissions
from paved.testing import create_tables, eventually

from locked_shop import ReserveStock, declarations, order, order_metadata, warehouse, warehouse_metadata
from paved_platform.nats import PLATFORM_USER, BrokerUser, EmbeddedNats, start_nats, with_credentials, write_config

pytestmark = pytest.mark.nats


def users() -> dict[str, BrokerUser]:
    """The platform's user and one per service, each with what its own declarations allow."""
    found = {PLATFORM_USER: BrokerUser(PLATFORM_USER, "platform-password")}
    for service in declarations():
        permissions = nats_permissions(service.messaging.access())
        found[service.name] = BrokerUser(service.name, f"{service.name}-password", permissions)
    return found


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A JetStream server that admits only the platform's user and the services' own."""
    config = write_config(tmp_path / "nats.conf", list(users().values()))
    assert config.stat().st_mode & 0o777 == 0o600
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log", config=config)
    yield server
    server.stop()


def url_of(server: EmbeddedNats, user: str) -> str:
    return with_credentials(server.url, users()[user])


async def connection_of(user: str, url: str, refusals: list[str]) -> nats.NATS:
    """A plain connection on the user's own inbox; what the broker refuses it (a permissions violation) is
    added to ``refusals``."""

    async def refused(error: Exception) -> None:
        refusals.append(str(error))

    return await nats.connect(
        url, allow_reconnect=False, connect_timeout=2, error_cb=refused, inbox_prefix=f"_INBOX_{user}"
    )


async def stream_messages(server: EmbeddedNats, stream: str) -> int:
    """How many messages ``stream`` holds, as the platform's user sees it."""
    client = await nats.connect(url_of(server, PLATFORM_USER))
    try:
        return (await client.jetstream().stream_info(stream)).state.messages
    finally:
        await client.close()


@pytest.fixture
async def declared(locked: EmbeddedNats, tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """The services' streams and consumers, declared as `paved up` does (by the platform's user)."""
    async with connected(url_of(locked, PLATFORM_USER)) as transport:
        for service in declarations():
            await service.messaging.declare(transport)
    yield locked


async def test_a_connection_without_credentials_or_with_a_wrong_password_is_refused(locked: EmbeddedNats) -> None:
    """No user, or a known user with another password: the broker refuses the connection itself."""
    wrong = with_credentials(locked.url, BrokerUser("order", "not-its-password"))
    for url in (locked.url, wrong):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_services_on_their_own_users_do_their_work(declared: EmbeddedNats, tmp_path: Path) -> None:
    """With nothing but its own permissions each service declares its streams and consumers again, sends,
    takes (once after a failed attempt, retried) and answers commands, and takes the answers: the
    permissions its declarations give are enough."""
    warehouse_url, order_url = f"sqlite+aiosqlite:///{tmp_path}/w.db", f"sqlite+aiosqlite:///{tmp_path}/o.db"
    await create_tables(warehouse_url, warehouse_metadata)
    await create_tables(order_url, order_metadata)
    reserved: list[str] = []
    answered: list[str] = []
    stock = warehouse(database_url=warehouse_url, broker_url=url_of(declared, "warehouse"), reserved=reserved)
    orders = order(database_url=order_url, broker_url=url_of(declared, "order"), answered=answered)
    async with stock.running(), orders.running():
        assert orders.messaging.requests is not None
        async with orders.database.transaction() as session:
            for order_id in ("o-1", "fails-once-1"):
                await orders.messaging.requests.send(
                    session, ReserveStock(order_id=order_id), deadline=timedelta(seconds=30)
                )

        async def done() -> list[str]:
            return sorted(answered) if len(answered) == 2 else []

        assert await eventually(done) == ["fails-once-1", "o-1"]
    assert set(reserved) == {"fails-once-1", "o-1"}  # a batch with a failure is handled again one by one


async def test_a_service_may_not_publish_a_command_it_does_not_send_nor_an_event_on_anothers_stream(
    declared: EmbeddedNats,
) -> None:
    """The warehouse's user sending a command (its own kind, which only order sends) or an order event is
    refused by the broker: nothing reaches the streams. Order's user may not publish the warehouse's events."""
    for user, subject, stream in (
        ("warehouse", "warehouse.commands.reserve-stock", "WAREHOUSE_COMMANDS"),
        ("warehouse", "order.events.order-placed", "ORDER_EVENTS"),
        ("order", "warehouse.events.stock-reserved", "WAREHOUSE_EVENTS"),
    ):
        refusals: list[str] = []
        client = await connection_of(user, url_of(declared, user), refusals)
        try:
            with pytest.raises(nats.errors.TimeoutError):  # no stream answers what the broker dropped
                await client.jetstream().publish(subject, b"{}", timeout=1)
        finally:
            await client.close()
        assert f'nats: permissions violation for publish to "{subject}"' in refusals
        assert await stream_messages(declared, stream) == 0


async def test_a_service_may_not_read_another_services_answers_nor_its_consumers(declared: EmbeddedNats) -> None:
    """The warehouse's user may not subscribe to order's inbox (where order's fetched messages and acks
    come), nor fetch from order's reply consumer."""
    refusals: list[str] = []
    client = await connection_of("warehouse", url_of(declared, "warehouse"), refusals)
    try:
        await client.subscribe("_INBOX_order.>")
        await client.publish("$JS.API.CONSUMER.MSG.NEXT.ORDER_REPLIES.order-replies", b"1")
        await client.flush()
        await asyncio.sleep(0.2)
    finally:
        await client.close()
    # nats-py reports the server's error in lower case.
    assert 'nats: permissions violation for subscription to "_inbox_order.>"' in refusals
    assert (
        'nats: permissions violation for publish to "$js.api.consumer.msg.next.order_replies.order-replies"' in refusals
    )
