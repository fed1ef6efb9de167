"""What the payment service's integration tests share: settings, a running service, and the broker's messages."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from paved import Envelope, Service
from paved.testing import BrokerProbe, TestTokens

from payment.app import create_service
from payment.contract import TakePayment
from payment.ports import PaymentProvider
from payment.settings import PaymentSettings

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
    """The payment service run as uvicorn runs it: its database, broker, consumers and worker, and its app."""
    service = create_service(settings, provider=provider)
    tokens.install(service.app)
    async with service.running():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment") as client:
            yield Running(service, client, tokens)


Start = Callable[..., AbstractAsyncContextManager[Running]]


async def messages_about(probe: BrokerProbe, stream: str, order_id: str) -> list[Envelope]:
    """The messages in ``stream`` about ``order_id`` (by their data: an orchestrated order's commands, and so
    their events, carry the saga's correlation id), in stream order."""
    return [envelope for envelope in await probe.messages_in(stream) if envelope.data.get("order_id") == order_id]
