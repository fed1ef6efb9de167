from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from paved import Service
from paved.testing import BrokerProbe, TestTokens, eventually
from paved_platform.testing import running_nats
from sqlalchemy import func, select

from order.settings import OrderSettings
from order.tables import payment_cards

from .bodies import VISA, an_order, keyed
from .edges import Edges
from .fake_partners import FakeLoyalty, FakePayment, FakeWarehouse
from .running import order_service

DECLINED = "4000000000000002"


@pytest.fixture
def nats_url() -> Iterator[str]:
    """A JetStream server of the test's own: every test starts with empty streams and fresh consumers."""
    with running_nats() as url:
        yield url


class Shop:
    """order and the stand-ins for its partners on one broker, for one test."""

    def __init__(self, *, folder: Path, nats_url: str, database_url: str, edges: Edges, tokens: TestTokens) -> None:
        self.folder, self.nats_url, self.database_url = folder, nats_url, database_url
        self.edges, self.tokens = edges, tokens
        self.warehouse = FakeWarehouse(stock={"ALB-00001": 5, "ALB-00002": 1})
        self.payment = FakePayment(declined_cards={DECLINED})
        self.loyalty = FakeLoyalty()
        self.broker = BrokerProbe(nats_url)
        self.stack = AsyncExitStack()
        self.ann = tokens.bearer("acc_ann", "customer")

    async def start(self, *running: str, **settings: Any) -> tuple[Service, httpx.AsyncClient]:
        """Start the partners named (the others' streams exist, nobody answers there), then order."""
        for name, fake in (("warehouse", self.warehouse), ("payment", self.payment), ("loyalty", self.loyalty)):
            partner = await fake.service(folder=self.folder, broker_url=self.nats_url)
            if name in running:
                await self.stack.enter_async_context(partner.running())
            else:
                await self.broker.declare(*partner.messaging.streams)  # as its `paved prepare` would
        order = order_service(
            OrderSettings(
                database_url=self.database_url,
                broker_url=self.nats_url,
                catalog_url="http://catalog",
                customer_url="http://customer",
                **settings,
            ),
            self.edges,
            self.tokens,
        )
        await self.stack.enter_async_context(order.running())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=order.app), base_url="http://order")
        await self.stack.enter_async_context(client)
        return order, client

    async def start_partner(self, fake: FakeWarehouse | FakePayment | FakeLoyalty) -> None:
        partner = await fake.service(folder=self.folder, broker_url=self.nats_url)
        await self.stack.enter_async_context(partner.running())


@pytest.fixture
async def shop(
    tmp_path: Path, nats_url: str, database_url: str, edges: Edges, tokens: TestTokens
) -> AsyncIterator[Shop]:
    shop = Shop(folder=tmp_path, nats_url=nats_url, database_url=database_url, edges=edges, tokens=tokens)
    async with shop.stack:
        yield shop


async def place(client: httpx.AsyncClient, headers: dict[str, str], *lines: tuple[str, int], card: str = VISA) -> str:
    response = await client.post("/orders", json=an_order(*lines, card=card), headers=keyed(headers))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def reaches(client: httpx.AsyncClient, headers: dict[str, str], order_id: str, status: str) -> dict[str, Any]:
    """The order once it is in ``status`` (its last state if it never gets there in time)."""

    async def current() -> dict[str, Any] | None:
        order: dict[str, Any] = (await client.get(f"/orders/{order_id}", headers=headers)).json()
        return order if order["status"] == status else None

    found = await eventually(current)
    assert found is not None, (await client.get(f"/orders/{order_id}/history", headers=headers)).json()
    return found


async def events(client: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> list[str]:
    history = (await client.get(f"/orders/{order_id}/history", headers=headers)).json()
    return [entry["event"] for entry in history["items"]]


async def cards_kept(service: Service) -> int:
    async with service.database.read() as session:
        return int((await session.execute(select(func.count()).select_from(payment_cards))).scalar_one())


async def test_an_order_is_reserved_paid_rewarded_and_dispatched(shop: Shop) -> None:
    """The happy path: every partner answers, the order ends dispatched with its points, and the card is gone."""
    order, client = await shop.start("warehouse", "payment", "loyalty")
    order_id = await place(client, shop.ann, ("ALB-00001", 2), ("ALB-00002", 1))
    dispatched = await reaches(client, shop.ann, order_id, "dispatched")
    assert shop.payment.charged[order_id] == (3597, VISA)  # the card went to payment, and the catalog's total
    assert shop.warehouse.dispatched == {order_id} and shop.warehouse.stock == {"ALB-00001": 3, "ALB-00002": 0}

    async def points() -> int | None:
        awarded: int | None = (await client.get(f"/orders/{order_id}", headers=shop.ann)).json()["points_awarded"]
        return awarded

    assert await eventually(points) == 35
    assert dispatched["points_awarded"] in (None, 35)  # loyalty and dispatch answer in either order
    happened = await events(client, shop.ann, order_id)
    assert happened[:3] == ["placed", "stock_reserved", "payment_taken"]
    assert set(happened[3:]) == {"points_awarded", "dispatched"}
    assert await cards_kept(order) == 0
    published = [e.type for e in await shop.broker.messages_in("ORDER_EVENTS", correlation_ids={order_id})]
    assert published == ["order.OrderPlaced", "order.OrderDispatched"]


async def test_an_order_the_warehouse_cannot_fill_is_rejected_without_asking_for_payment(shop: Shop) -> None:
    """Out of stock: rejected with the shortage, OrderRejected published, payment never asked."""
    order, client = await shop.start("warehouse", "payment", "loyalty")
    order_id = await place(client, shop.ann, ("ALB-00002", 3))
    await reaches(client, shop.ann, order_id, "rejected")
    history = (await client.get(f"/orders/{order_id}/history", headers=shop.ann)).json()["items"]
    assert (history[-1]["event"], history[-1]["reason"]) == (
        "out_of_stock",
        "not enough stock: ALB-00002 (asked 3, 1 available)",
    )
    assert (
        shop.payment.charged == {}
        and await shop.broker.messages_in("PAYMENT_COMMANDS", correlation_ids={order_id}) == []
    )
    [rejected] = [
        e
        for e in await shop.broker.messages_in("ORDER_EVENTS", correlation_ids={order_id})
        if e.type == "order.OrderRejected"
    ]
    assert rejected.data["reason"] == "out_of_stock" and rejected.data["total"]["amount_minor"] == 2997
    assert await cards_kept(order) == 0


async def test_a_declined_card_rejects_the_order_and_its_stock_is_released(shop: Shop) -> None:
    """The warehouse gets its stock back, and the order's history says when it did."""
    _, client = await shop.start("warehouse", "payment", "loyalty")
    order_id = await place(client, shop.ann, ("ALB-00001", 2), card=DECLINED)
    rejected = await reaches(client, shop.ann, order_id, "rejected")
    assert rejected["card_last4"] == "0002"

    async def released() -> bool:
        return "stock_released" in await events(client, shop.ann, order_id)

    assert await eventually(released)
    assert shop.warehouse.commands == [("reserve", order_id), ("release", order_id)]
    assert shop.warehouse.stock["ALB-00001"] == 5
    history = (await client.get(f"/orders/{order_id}/history", headers=shop.ann)).json()["items"]
    assert ("payment_declined", "the card was declined (insufficient_funds)") in [
        (e["event"], e["reason"]) for e in history
    ]


async def test_an_order_cancelled_while_payment_is_away_is_refunded_then_its_stock_released(shop: Shop) -> None:
    """Cancelled while payment is away: the order is cancelled at once; its saga waits for payment's answer
    (it may have charged), then undoes what was done in reverse order: refund, then release."""
    order, client = await shop.start("warehouse", "loyalty")
    order_id = await place(client, shop.ann, ("ALB-00001", 1))
    await reaches(client, shop.ann, order_id, "stock_reserved")
    cancelled = await client.post(f"/orders/{order_id}/cancel", headers=shop.ann)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await cards_kept(order) == 0
    assert shop.warehouse.stock["ALB-00001"] == 4  # held until payment has answered
    await shop.start_partner(shop.payment)  # payment catches up with the TakePayment sent before the cancel

    async def stock_back() -> bool:
        return shop.warehouse.stock["ALB-00001"] == 5

    assert await eventually(stock_back)
    assert order_id in shop.payment.refunded

    async def told() -> bool:
        return "stock_released" in await events(client, shop.ann, order_id)

    assert await eventually(told)
    happened = await events(client, shop.ann, order_id)
    assert happened[-3:] == ["payment_taken_after_end", "payment_refunded", "stock_released"]
    assert [e.type for e in await shop.broker.messages_in("ORDER_EVENTS", correlation_ids={order_id})] == [
        "order.OrderPlaced",
        "order.OrderCancelled",
    ]
    assert (await client.get(f"/orders/{order_id}", headers=shop.ann)).json()["status"] == "cancelled"


async def test_a_payment_service_that_never_answers_is_asked_again_then_the_order_is_rejected(shop: Shop) -> None:
    """Two attempts within their deadlines, then rejected; the refund (in case it charged) is asked until
    payment is back, and then the stock is released: compensations run in reverse order."""
    _, client = await shop.start("warehouse", "loyalty", order_payment_deadline_seconds=0.5, order_max_attempts=2)
    order_id = await place(client, shop.ann, ("ALB-00001", 1))
    rejected = await reaches(client, shop.ann, order_id, "rejected")
    assert rejected["status"] == "rejected"
    happened = await events(client, shop.ann, order_id)
    assert happened[:3] == ["placed", "stock_reserved", "payment_unavailable"]
    sent = [e.type for e in await shop.broker.messages_in("PAYMENT_COMMANDS", correlation_ids={order_id})]
    assert sent[:3] == ["payment.TakePayment", "payment.TakePayment", "payment.RefundPayment"]
    assert set(sent[3:]) <= {"payment.RefundPayment"}
    await shop.start_partner(shop.payment)

    async def stock_back() -> bool:
        return shop.warehouse.stock["ALB-00001"] == 5

    assert await eventually(stock_back)
