from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from paved import Database
from paved.testing import BrokerProbe, TestTokens, eventually, migrated_database

from payment.store import PaymentRepository

from .asker import OrdersSide
from .conftest import MIGRATIONS
from .processes import PAYMENT_DIR, ProviderProcess, ServiceProcess
from .values import Running, Start, messages_about, new_order_id, payment_settings, serving, take


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """SQLite only: these tests are about the processor's misbehaviour, not the database."""
    async with migrated_database("sqlite", migrations=MIGRATIONS, name="payment", folder=tmp_path) as url:
        yield url


async def notes(payment: Running, order_id: str) -> list[str]:
    found = await payment.payment(order_id)
    return [entry["note"] for entry in found.get("history", [])]


async def answer_kinds(orders: OrdersSide, order_id: str) -> list[str]:
    return [kind for kind, _ in await orders.answers(order_id)]


async def test_a_server_error_then_success_charges_once(
    start: Start, own_provider: ProviderProcess, orders: OrdersSide
) -> None:
    """The processor answers 500/503 until it recovers; the payment is retried, then taken, and charged once."""
    order_id = new_order_id()
    own_provider.start(error_rate=1.0, seed=1)
    async with start(own_provider.url, payment_charge_attempts=100) as payment:
        await orders.send(take(order_id))

        async def failed_once() -> bool:
            return any("no answer (50" in note for note in await notes(payment, order_id))

        assert await eventually(failed_once)
        own_provider.restart()
        assert await eventually(lambda: answer_kinds(orders, order_id)) == ["PaymentTaken"]
    assert len(own_provider.charges(order_id)) == 1


async def test_a_timeout_whose_charge_went_through_is_resolved_without_a_second_charge(
    start: Start, own_provider: ProviderProcess, orders: OrdersSide
) -> None:
    """The processor charges and never answers; after it recovers, the retry gets that charge back, not a new one."""
    order_id = new_order_id()
    own_provider.start(timeout_rate=1.0, timeout_seconds=60)
    async with start(own_provider.url, payment_provider_timeout_seconds=0.5, payment_charge_attempts=100) as payment:
        await orders.send(take(order_id))

        async def timed_out() -> bool:
            return any("no answer (ReadTimeout" in note for note in await notes(payment, order_id))

        assert await eventually(timed_out)
        recovered_at = datetime.now(UTC)
        own_provider.restart()
        answered = await eventually(lambda: orders.answers(order_id))
    (charge,) = own_provider.charges(order_id)
    assert [(kind, data["charge_id"]) for kind, data in answered] == [("PaymentTaken", charge["id"])]
    # The charge the retry got back is the one made while the processor was not answering.
    assert datetime.fromisoformat(str(charge["created_at"])) < recovered_at


async def test_a_processor_that_never_answers_fails_the_payment_and_the_unseen_charge_goes_back(
    start: Start, own_provider: ProviderProcess, orders: OrdersSide, probe: BrokerProbe
) -> None:
    """The last attempt unanswered, the order hears PaymentFailed; with the processor back, its charge is refunded."""
    order_id = new_order_id()
    own_provider.start(timeout_rate=1.0, timeout_seconds=60)
    settings = {"payment_provider_timeout_seconds": 0.3, "payment_charge_attempts": 2}
    async with start(own_provider.url, **settings) as payment:
        await orders.send(take(order_id))
        answered = await eventually(lambda: orders.answers(order_id))
        assert [(kind, data["reason"]) for kind, data in answered] == [("PaymentFailed", "provider unavailable")]
        own_provider.restart()

        async def refunded() -> bool:
            return bool((await payment.payment(order_id))["status"] == "refunded")

        assert await eventually(refunded)

        # Read while the service runs: its relay sends the refund's event a moment after the refund commits.
        async def both_events() -> list[str]:
            types = [event.type for event in await messages_about(probe, "PAYMENT_EVENTS", order_id)]
            return types if len(types) >= 2 else []

        assert await eventually(both_events) == ["payment.PaymentFailed", "payment.PaymentRefunded"]
    (charge,) = own_provider.charges(order_id)
    assert charge["refunded_minor"] == charge["amount_minor"]


async def test_a_payment_service_killed_mid_call_converges_on_one_charge(
    tmp_path: Path, database_url: str, broker_url: str, own_provider: ProviderProcess, orders: OrdersSide
) -> None:
    """The service is killed (SIGKILL) while the processor holds its charge; restarted, it takes that charge, once."""
    order_id = new_order_id()
    own_provider.start(timeout_rate=1.0, timeout_seconds=60)
    timeout = "2"  # the claim's lease is 2 x 2 + 5 = 9 seconds: then the restarted service takes the step over
    service = ServiceProcess(
        PAYMENT_DIR,
        tmp_path,
        env={
            "PAVED_DATABASE_URL": database_url,
            "PAVED_BROKER_URL": broker_url,
            "PAVED_PAYMENT_PROVIDER_URL": own_provider.url,
            "PAVED_PAYMENT_PROVIDER_TIMEOUT_SECONDS": timeout,
        },
    )
    service.start()
    database = Database(database_url)
    await database.start()
    try:
        await orders.send(take(order_id))

        async def claimed() -> bool:
            async with database.read() as session:
                found = await PaymentRepository(session).read(order_id)
            return found is not None and bool(found[0].attempts >= 1)

        assert await eventually(claimed)
        await asyncio.sleep(0.5)  # the call is at the processor, which charges, and holds its answer
        service.kill()
        killed_at = datetime.now(UTC)
    finally:
        service.kill()
        await database.stop()
    own_provider.restart()
    settings = payment_settings(
        database_url=database_url,
        broker_url=broker_url,
        provider_url=own_provider.url,
        payment_provider_timeout_seconds=float(timeout),
    )
    async with serving(settings, TestTokens()) as payment:
        answered = await eventually(lambda: orders.answers(order_id), timeout=30)
        assert (await payment.payment(order_id))["status"] == "taken"
    (charge,) = own_provider.charges(order_id)
    assert datetime.fromisoformat(str(charge["created_at"])) < killed_at  # made by the call that was cut off
    assert [(kind, data["charge_id"]) for kind, data in answered] == [("PaymentTaken", charge["id"])]
