"""What the payment service's integration tests share: settings, a running service, and waiting."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import httpx
import nats
from nats.js.errors import NotFoundError
from paved import Envelope, Service
from paved.testing import TestTokens

from payment.app import create_service
from payment.contract import TakePayment
from payment.ports import PaymentProvider
from payment.settings import PaymentSettings

T = TypeVar("T")
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
_orders = itertools.count(1)


def new_order_id() -> str:
    """An order id no other test uses, so that tests may share a payment-provider."""
    return f"o-{uuid.uuid4().hex[:12]}-{next(_orders)}"


def take(order_id: str, *, card: str = GOOD_CARD, amount_minor: int = 1299) -> TakePayment:
    return TakePayment(
        order_id=order_id, customer_id="customer-1", amount_minor=amount_minor, currency="GBP", card_number=card
    )


def payment_settings(*, database_url: str, broker_url: str, provider_url: str, **overrides: Any) -> PaymentSettings:
    """Settings for tests: short deadlines and waits, so that retries happen within a test's time."""
    defaults: dict[str, Any] = {
        "payment_provider_timeout_seconds": 1.0,
        "payment_first_retry_ms": 100,
        "payment_longest_retry_seconds": 0.5,
        "payment_look_up_after_seconds": 0.2,
    }
    return PaymentSettings(
        database_url=database_url, broker_url=broker_url, payment_provider_url=provider_url, **(defaults | overrides)
    )


class Running:
    """The payment service, serving: its HTTP API without a network hop, and its worker running."""

    def __init__(self, service: Service, client: httpx.AsyncClient, tokens: TestTokens) -> None:
        self.service = service
        self.client = client
        self.tokens = tokens

    async def payment(self, order_id: str) -> dict[str, Any]:
        """The payment as a service client with payments:read reads it (the status 404 if there is none)."""
        response = await self.client.get(
            f"/payments/{order_id}", headers=self.tokens.bearer("order", "payments:read", client=True)
        )
        return response.json() if response.status_code == 200 else {"status": response.status_code}


@asynccontextmanager
async def serving(
    settings: PaymentSettings, tokens: TestTokens, *, provider: PaymentProvider | None = None
) -> AsyncIterator[Running]:
    """The payment service run as uvicorn runs it: through its app's lifespan, which runs the worker too."""
    service = create_service(settings, provider=provider)
    tokens.install(service.app)
    async with service.app.router.lifespan_context(service.app):
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment") as client:
            yield Running(service, client, tokens)


Start = Callable[..., AbstractAsyncContextManager[Running]]


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 20.0) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def messages_about(broker_url: str, stream: str, order_id: str) -> list[Envelope]:
    """The messages in ``stream`` about ``order_id``, in stream order."""
    connection = await nats.connect(broker_url)
    try:
        js = connection.jetstream()
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            return []
        if info.state.messages == 0:
            return []  # an empty stream's first and last sequence are 0: no message has that number
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            data = (await js.get_msg(stream, seq)).data
            assert data is not None
            envelope = Envelope.from_bytes(data)
            if envelope.data.get("order_id") == order_id:
                found.append(envelope)
        return found
    finally:
        await connection.close()
