from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from paved.testing import TestTokens, eventually

from ..unit.fakes import FakeProvider
from .asker import OrdersSide
from .values import Running, new_order_id, payment_settings, serving, take


@pytest.fixture
async def payment(database_url: str, broker_url: str, tokens: TestTokens) -> AsyncIterator[Running]:
    """The payment service with an in-memory processor: these tests are about reading payments."""
    settings = payment_settings(database_url=database_url, broker_url=broker_url, provider_url="http://unused")
    async with serving(settings, tokens, provider=FakeProvider()) as running:
        yield running


@pytest.fixture
async def order_id(payment: Running, orders: OrdersSide) -> str:
    """An order of customer-1 whose payment was taken."""
    order_id = new_order_id()
    await orders.send(take(order_id))
    await eventually(lambda: orders.answers(order_id))
    return order_id


async def test_a_service_client_with_the_scope_reads_a_payment_and_its_history(payment: Running, order_id: str) -> None:
    """A client token with payments:read reads the payment, its card's last four digits and every change."""
    response = await payment.client.get(
        f"/payments/{order_id}", headers=payment.tokens.bearer("order", "payments:read", client=True)
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_minor"], body["currency"], body["card_last4"]) == (
        "taken",
        1299,
        "GBP",
        "4242",
    )
    assert body["customer_id"] == "customer-1"
    assert [entry["status"] for entry in body["history"]] == ["charging", "taken"]
    assert "4242424242424242" not in response.text


async def test_an_admin_reads_any_payment(payment: Running, order_id: str) -> None:
    """An admin token reads any order's payment."""
    response = await payment.client.get(f"/payments/{order_id}", headers=payment.tokens.bearer("ops", "admin"))
    assert response.status_code == 200


async def test_a_customer_cannot_read_payments_by_order(payment: Running, order_id: str) -> None:
    """A customer's token, even the payer's, lacks payments:read: 403 on the service-to-service endpoint."""
    response = await payment.client.get(
        f"/payments/{order_id}", headers=payment.tokens.bearer("customer-1", "customer")
    )
    assert response.status_code == 403
    assert "payments:read" in response.json()["detail"]


async def test_reading_a_payment_needs_a_token(payment: Running, order_id: str) -> None:
    """Without a token the answer is 401, with a Bearer challenge."""
    response = await payment.client.get(f"/payments/{order_id}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_customer_reads_their_own_payment(payment: Running, order_id: str) -> None:
    """The payer reads their order's payment under /me."""
    response = await payment.client.get(
        f"/me/payments/{order_id}", headers=payment.tokens.bearer("customer-1", "customer")
    )
    assert response.status_code == 200
    assert response.json()["order_id"] == order_id


async def test_someone_elses_payment_is_not_found(payment: Running, order_id: str) -> None:
    """Another customer asking for the order's payment is told there is none: 404, as for an unknown order."""
    response = await payment.client.get(
        f"/me/payments/{order_id}", headers=payment.tokens.bearer("customer-2", "customer")
    )
    assert response.status_code == 404
    unknown = await payment.client.get(
        f"/me/payments/{new_order_id()}", headers=payment.tokens.bearer("customer-2", "customer")
    )
    assert (unknown.status_code, unknown.json()["title"]) == (404, response.json()["title"])


async def test_an_unknown_order_has_no_payment(payment: Running) -> None:
    """An order no payment was asked for is a 404 problem."""
    response = await payment.client.get(
        f"/payments/{new_order_id()}", headers=payment.tokens.bearer("order", "payments:read", client=True)
    )
    assert response.status_code == 404
    assert response.json()["title"] == "Payment not found"


async def test_a_malformed_order_id_is_refused_naming_it(payment: Running) -> None:
    """An order id that cannot be one is a 422 problem naming the path parameter."""
    response = await payment.client.get(
        "/payments/-not-an-id", headers=payment.tokens.bearer("order", "payments:read", client=True)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.order_id"
