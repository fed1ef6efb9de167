"""The payment service as ``create_service`` wires it, on the in-process broker (``memory://``) and SQLite: its
consumers, outbox, worker and replies in one process, with no nats-server (the NATS tests prove the real one)."""

from __future__ import annotations

from pathlib import Path

from paved.testing import TestTokens, eventually, memory_broker_for_test, migrated_database

from payment.contract import RefundPayment

from ..unit.fakes import FakeProvider
from .asker import OrdersSide
from .conftest import MIGRATIONS
from .values import new_order_id, payment_settings, serving, take


async def test_a_payment_is_taken_and_refunded_over_the_memory_broker(tmp_path: Path, tokens: TestTokens) -> None:
    """TakePayment, then RefundPayment, through the in-process broker: the worker (woken by the commands'
    commits) charges once and refunds once, and the asker hears PaymentTaken, then PaymentRefunded."""
    order_id, provider = new_order_id(), FakeProvider()
    async with migrated_database("sqlite", migrations=MIGRATIONS, name="payment", folder=tmp_path) as database_url:
        with memory_broker_for_test() as broker:
            orders = OrdersSide(database_url=f"sqlite+aiosqlite:///{tmp_path}/orders.db", broker_url=broker.url)
            await orders.create_tables()
            settings = payment_settings(database_url=database_url, broker_url=broker.url, provider_url="http://unused")
            async with serving(settings, tokens, provider=provider), orders.service.running():
                await orders.send(take(order_id))
                assert [kind for kind, _ in await eventually(lambda: orders.answers(order_id))] == ["PaymentTaken"]
                await orders.send(RefundPayment(order_id=order_id))

                async def two_answers() -> list[str]:
                    kinds = [kind for kind, _ in await orders.answers(order_id)]
                    return kinds if len(kinds) == 2 else []

                assert await eventually(two_answers) == ["PaymentTaken", "PaymentRefunded"]
    assert provider.charges_made() == 1
    assert provider.refunded(order_id) == 1299
