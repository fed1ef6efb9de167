"""A locked RabbitMQ, on a node of the test's own: a user per service made with rabbitmqctl from its declarations,
so that each service does its work and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aio_pika
import aiormq.exceptions
import pytest
from paved.messaging import connected, rabbitmq_permissions
from paved.testing import create_tables, eventually

from locked_shop import ReserveStock, declarations, order, order_metadata, warehouse, warehouse_metadata
from paved_platform.rabbitmq import RabbitUser, as_user, lock, node_serving, vhost_of
from paved_platform.testing import RabbitNode, running_rabbitmq

pytestmark = pytest.mark.rabbitmq

USERS = {
    service.name: RabbitUser(service.name, f"{service.name}-password", rabbitmq_permissions(service.messaging.access()))
    for service in declarations()
}


async def _declare(url: str) -> None:
    async with connected(url) as transport:
        for service in declarations():
            await service.messaging.declare(transport)


@pytest.fixture(scope="module")
def declared() -> Iterator[RabbitNode]:
    """A RabbitMQ node whose guest is the platform's user, with a user per service made by `lock`, and the
    services' exchange, queues and bindings made as `paved up`'s preparation does (as the platform)."""
    with running_rabbitmq() as node:
        ctl, env = node.rabbitmqctl()
        lock(list(USERS.values()), vhost=vhost_of(node.url), ctl=ctl, env=env)
        lock(list(USERS.values()), vhost=vhost_of(node.url), ctl=ctl, env=env)  # again: idempotent
        asyncio.run(_declare(node.url))
        yield node


async def test_services_on_their_own_users_do_their_work(declared: RabbitNode, tmp_path: Path) -> None:
    """With its own user alone each service finds the exchange and its queues, sends, takes (once after a
    failed attempt, whose retry waits and comes back) and answers commands, and takes the answers."""
    warehouse_url, order_url = f"sqlite+aiosqlite:///{tmp_path}/w.db", f"sqlite+aiosqlite:///{tmp_path}/o.db"
    await create_tables(warehouse_url, warehouse_metadata)
    await create_tables(order_url, order_metadata)
    reserved: list[str] = []
    answered: list[str] = []
    stock = warehouse(
        database_url=warehouse_url, broker_url=as_user(declared.url, USERS["warehouse"]), reserved=reserved
    )
    orders = order(database_url=order_url, broker_url=as_user(declared.url, USERS["order"]), answered=answered)
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
    assert set(reserved) == {"fails-once-1", "o-1"}


async def refused_publish(url: str, routing_key: str, *, exchange: str = "paved") -> None:
    """Publish as ``url``'s user; raises what RabbitMQ answers a refused publish with."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = channel.default_exchange if exchange == "" else await channel.get_exchange(exchange)
        await target.publish(aio_pika.Message(b"{}"), routing_key=routing_key, timeout=5)


@pytest.mark.parametrize(
    ("user", "routing_key", "exchange"),
    [
        ("warehouse", "warehouse.commands.reserve-stock", "paved"),  # a command only order sends
        ("warehouse", "order.events.order-placed", "paved"),  # another's event
        ("order", "warehouse.events.stock-reserved", "paved"),
        ("order", "warehouse-commands", ""),  # straight into the warehouse's queue
        ("order", "paved.redeliver.warehouse-commands", "paved"),  # as a retry coming back
    ],
)
async def test_a_service_may_not_publish_what_it_does_not_send(
    declared: RabbitNode, user: str, routing_key: str, exchange: str
) -> None:
    """A command it does not send, an event of another's, a message put in another's queue: refused by RabbitMQ."""
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await refused_publish(as_user(declared.url, USERS[user]), routing_key, exchange=exchange)


async def test_a_wrong_password_is_refused(declared: RabbitNode) -> None:
    """A service's name with another password does not connect."""
    wrong = RabbitUser("order", "not-its-password", USERS["order"].permissions)
    with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(as_user(declared.url, wrong))


def test_the_node_that_serves_a_url_is_found(declared: RabbitNode) -> None:
    """`rabbitmqctl` names a node, not an address: the local node whose AMQP listener is the URL's port is found."""
    ctl, _ = declared.rabbitmqctl()
    # In the environment `paved up` has: rabbitmqctl's own defaults, nothing of the node's.
    assert node_serving(declared.url, rabbitmqctl=ctl[0]) == declared.name
    assert node_serving("amqp://guest:guest@192.0.2.1:5672/", rabbitmqctl=ctl[0]) is None
