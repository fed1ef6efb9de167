"""The locked broker, as `paved up` ships it: a command published without credentials, by a service that may
not send it, or forged in another's name, is never acted on; and no broker password shows anywhere.

Against the whole shop (real processes, the embedded NATS with a user per service), through the warehouse:
its ReserveStock is order's to send.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import aiormq.exceptions
import nats
import nats.errors
import pytest
from paved import Envelope
from paved.messaging import connected
from paved_platform.testing import running_rabbitmq

from conftest import PAVED, ROOT, PavedUp, eventually, whole_shop

SKU = "ALB-00002"
SUBJECT = "warehouse.commands.reserve-stock"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(tmp_path_factory.mktemp("locked") / "state") as up:
        yield up


def nats_url(shop: PavedUp, user: str | None = None) -> str:
    """The embedded NATS's URL, with ``user``'s credentials as `paved up` keeps them (none if None)."""
    url = str(shop.run_info()["nats"]["url"])
    if user is None:
        return url
    password = (shop.state / "secrets" / f"nats-{user}").read_text().strip()
    return url.replace("nats://", f"nats://{user}:{password}@")


def reserve_stock(order_id: str, *, sender: str | None) -> Envelope:
    """A ReserveStock as order's outbox would write it, but naming ``sender``."""
    data = {"order_id": order_id, "lines": [{"sku": SKU, "quantity": 1}]}
    return Envelope.new("warehouse.ReserveStock", data, reply_to="order.replies", sender=sender)


async def publish(url: str, envelope: Envelope, refusals: list[str]) -> bool:
    """Publish ``envelope`` on ReserveStock's subject as ``url``'s user; whether JetStream took it."""

    async def refused(error: Exception) -> None:
        refusals.append(str(error))

    user = url.split("//", 1)[1].split(":", 1)[0]
    client = await nats.connect(url, allow_reconnect=False, error_cb=refused, inbox_prefix=f"_INBOX_{user}")
    try:
        await client.jetstream().publish(SUBJECT, envelope.to_bytes(), headers=envelope.headers(), timeout=2)
    except nats.errors.TimeoutError:
        return False
    finally:
        await client.close()
    return True


def reservation(shop: PavedUp, order_id: str) -> int:
    with shop.client("warehouse") as warehouse:
        return warehouse.get(f"/reservations/{order_id}", headers=shop.admin_headers()).status_code


def available(shop: PavedUp) -> int:
    with shop.client("warehouse", as_="web-bff") as warehouse:
        answer = warehouse.get(f"/stock/{SKU}")
    answer.raise_for_status()
    return int(answer.json()["available"])


def paved(shop: PavedUp, *command: str) -> str:
    """A `paved` command as a person runs it beside `paved up` (it finds the platform's credentials itself)."""
    argv = [str(PAVED), *command, "--root", str(ROOT), "--state-dir", str(shop.state)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout


def refusals_parked(shop: PavedUp) -> list[str]:
    """The reasons of the warehouse's dead letters that are refused senders."""

    async def letters() -> list[str]:
        async with connected(nats_url(shop, "paved")) as transport:
            return [letter.reason for letter in await transport.dead_letters() if letter.reason.startswith("refused")]

    return asyncio.run(letters())


def test_a_connection_without_credentials_is_refused(shop: PavedUp) -> None:
    """A process that knows where NATS is but has no credentials cannot connect, let alone publish."""

    async def connect() -> None:
        await nats.connect(nats_url(shop), allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        asyncio.run(connect())


def test_a_command_by_a_service_that_may_not_send_it_is_refused_by_the_broker(shop: PavedUp) -> None:
    """Payment's own user publishing the warehouse's ReserveStock (order's to send): NATS drops it, and the
    warehouse holds nothing for that order."""
    order_id, before = f"ord-{uuid.uuid4().hex}", available(shop)
    refusals: list[str] = []
    taken = asyncio.run(publish(nats_url(shop, "payment"), reserve_stock(order_id, sender="payment"), refusals))
    assert not taken
    assert f'nats: permissions violation for publish to "{SUBJECT}"' in refusals
    assert reservation(shop, order_id) == 404
    assert available(shop) == before


def test_a_command_forged_in_another_services_name_is_parked_never_acted_on(shop: PavedUp) -> None:
    """A ReserveStock that does reach the warehouse (the platform's user may publish anything) naming payment
    as its sender, or no sender, is parked with the reason and counted; no stock is held for it."""
    forged, anonymous, before = f"ord-{uuid.uuid4().hex}", f"ord-{uuid.uuid4().hex}", available(shop)
    for order_id, sender in ((forged, "payment"), (anonymous, None)):
        assert asyncio.run(publish(nats_url(shop, "paved"), reserve_stock(order_id, sender=sender), []))

    reasons = eventually(lambda: len(found := refusals_parked(shop)) == 2 and found)
    assert sorted(reasons or refusals_parked(shop)) == [
        "refused: warehouse.ReserveStock from 'payment'; only order may send it",
        "refused: warehouse.ReserveStock from an unknown sender; only order may send it",
    ]
    assert "warehouse-commands" in paved(shop, "dlq", "list")
    with shop.client("warehouse") as warehouse:
        metrics = warehouse.get("/metrics").text
    assert 'messages_refused_total{consumer="warehouse-commands",message_type="warehouse.ReserveStock"} 2.0' in metrics
    assert reservation(shop, forged) == 404
    assert reservation(shop, anonymous) == 404
    assert available(shop) == before


def test_no_broker_password_is_in_a_log_or_in_paved_status(shop: PavedUp) -> None:
    """The broker passwords stay in .paved/secrets and the broker's configuration (its owner's only): no
    service's log, nor `paved up`'s output, nor `paved status` shows one."""
    secrets = {path.name: path.read_text().strip() for path in (shop.state / "secrets").glob("nats-*")}
    assert {"nats-paved", "nats-order", "nats-warehouse", "nats-payment", "nats-loyalty"} <= set(secrets)
    assert (shop.state / "nats.conf").stat().st_mode & 0o777 == 0o600
    shown = {
        "paved up": shop.output,
        "paved status": paved(shop, "status"),
        "paved streams": paved(shop, "streams"),
        "run.json": (shop.state / "run.json").read_text(),
    }
    shown |= {log.name: log.read_text(errors="replace") for log in Path(shop.state / "logs").glob("*.log")}
    leaks = [(where, name) for where, text in shown.items() for name, secret in secrets.items() if secret in text]
    assert leaks == []


@pytest.mark.rabbitmq
def test_on_rabbitmq_a_service_may_not_publish_a_command_it_does_not_send(tmp_path: Path) -> None:
    """`paved up --broker-url amqp://…` on a local node makes a user per service: payment's may not publish the
    warehouse's ReserveStock (RabbitMQ refuses it), and the warehouse, working on its own user, holds nothing."""
    with running_rabbitmq() as node:
        up = PavedUp(tmp_path / "state", "--free-ports", "--broker-url", node.url).start()
        try:
            up.wait_until_running()
            assert "a user per service" in up.output
            password = (up.state / "secrets" / "rabbitmq-payment").read_text().strip()
            as_payment = node.url.replace("guest:guest@", f"payment:{password}@")
            order_id, before = f"ord-{uuid.uuid4().hex}", available(up)

            async def publish_as_payment() -> None:
                envelope = reserve_stock(order_id, sender="payment")
                async with await aio_pika.connect(as_payment) as connection:
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await channel.get_exchange("paved")
                    await exchange.publish(aio_pika.Message(envelope.to_bytes()), routing_key=SUBJECT, timeout=5)

            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                asyncio.run(publish_as_payment())
            assert reservation(up, order_id) == 404
            assert available(up) == before
        finally:
            assert up.stop() == 0, up.output
