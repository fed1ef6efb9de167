from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from paved import Service
from paved.testing import eventually

from payment.cards import CardNumber
from payment.domain import PaymentStatus
from payment.money import Money
from payment.results import ChargeResult
from payment.worker import Worker

from .conftest import LEASE, Till
from .fakes import FakeProvider


@asynccontextmanager
async def running(worker: Worker, *, grace: float = 5.0) -> AsyncIterator[None]:
    """The worker run as the payment service runs it: paved's background task, stopped with its grace."""
    service = Service(name="payment-worker-test", version="0", database=False)
    service.background("payment-worker", worker.run, grace=grace)
    async with service.running():
        yield


class GatedProvider(FakeProvider):
    """A processor whose charges wait at a gate, counting how many wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0
        self.most_at_once = 0

    async def charge(self, *, idempotency_key: str, amount: Money, card: CardNumber, reference: str) -> ChargeResult:
        self.waiting += 1
        self.most_at_once = max(self.most_at_once, self.waiting)
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1
        return await super().charge(idempotency_key=idempotency_key, amount=amount, card=card, reference=reference)


class FailingOnceProvider(FakeProvider):
    """A processor whose adapter has a bug that raises on the first charge."""

    def __init__(self) -> None:
        super().__init__()
        self.charge_calls = 0

    async def charge(self, *, idempotency_key: str, amount: Money, card: CardNumber, reference: str) -> ChargeResult:
        self.charge_calls += 1
        if self.charge_calls == 1:
            raise RuntimeError("a bug in the adapter")
        return await super().charge(idempotency_key=idempotency_key, amount=amount, card=card, reference=reference)


def status(till: Till, order_id: str = "o-1") -> PaymentStatus:
    return till.payment(order_id).status


async def taken(till: Till, *order_ids: str) -> bool:
    return all(status(till, order_id) is PaymentStatus.TAKEN for order_id in order_ids or ("o-1",))


async def waiting(provider: GatedProvider, calls: int) -> bool:
    return provider.waiting == calls


async def test_a_recorded_payment_is_charged_once_the_worker_is_woken() -> None:
    """The worker, woken after a command is recorded, charges it at once (well within its idle wait)."""
    till = Till()
    worker = Worker(till.cashier, idle_seconds=60)
    async with running(worker):
        await till.take()
        worker.wake()
        assert await eventually(lambda: taken(till))


async def test_steps_left_from_before_are_found_without_a_wake_up() -> None:
    """A step recorded before the worker started (or by another instance) is found by the worker's own looking."""
    till = Till()
    await till.take()
    async with running(Worker(till.cashier, idle_seconds=0.05)):
        assert await eventually(lambda: taken(till))


async def test_no_more_calls_than_the_concurrency_are_in_flight() -> None:
    """With the processor hanging, the worker has at most `concurrency` calls out; the rest wait their turn."""
    till = Till(provider=GatedProvider())
    provider = till.provider
    assert isinstance(provider, GatedProvider)
    for n in range(5):
        await till.take(f"o-{n}")
    async with running(Worker(till.cashier, concurrency=2, idle_seconds=0.05)):
        assert await eventually(lambda: waiting(provider, 2))
        await asyncio.sleep(0.2)
        assert provider.most_at_once == 2
        provider.gate.set()
        assert await eventually(lambda: taken(till, *(f"o-{n}" for n in range(5))))
    assert provider.charges_made() == 5


async def test_a_step_cut_short_at_stop_is_taken_again_after_its_lease() -> None:
    """Stopping cuts a hanging call short after the grace; the step stays claimed, and is taken again later."""
    till = Till(provider=GatedProvider())
    provider = till.provider
    assert isinstance(provider, GatedProvider)
    await till.take()
    async with running(Worker(till.cashier, idle_seconds=0.05), grace=0.1):
        assert await eventually(lambda: waiting(provider, 1))
    assert provider.waiting == 0
    assert status(till) is PaymentStatus.CHARGING
    provider.gate.set()
    till.clock.advance(seconds=LEASE.total_seconds())
    async with running(Worker(till.cashier, idle_seconds=0.05)):
        assert await eventually(lambda: taken(till))


async def test_a_step_that_raises_does_not_stop_the_worker() -> None:
    """A step failing unexpectedly is logged and taken again when its claim lapses; the worker goes on."""
    till = Till(provider=FailingOnceProvider())
    provider = till.provider
    assert isinstance(provider, FailingOnceProvider)

    async def called_once() -> bool:
        return provider.charge_calls == 1

    await till.take()
    async with running(Worker(till.cashier, idle_seconds=0.05)):
        assert await eventually(called_once)
        till.clock.advance(seconds=LEASE.total_seconds())
        assert await eventually(lambda: taken(till))
