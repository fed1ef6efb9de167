"""The worker: takes the due steps of payments to the card processor, beside the service, outside transactions.

It claims what is due, runs each claimed step as its own task (at most ``concurrency`` at once, so a slow
processor ties up that many calls and no more), and sleeps until the next step is due or until it is
woken: by a command handled (``wake`` after its commit) or by a step finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from payment.cashier import Cashier, Claim

log = structlog.get_logger(logger_name="payment.worker")


class Worker:
    """Runs the cashier's steps with the processor until stopped; one per process."""

    def __init__(
        self, cashier: Cashier, *, concurrency: int = 8, idle_seconds: float = 1.0, grace_seconds: float = 5.0
    ) -> None:
        self.cashier = cashier
        self.concurrency = concurrency
        # Steps are also found without a wake-up (made due by another instance, or left by a crash).
        self.idle_seconds = idle_seconds
        # How long steps in flight get to finish when the service stops; a step cut short is taken again.
        self.grace_seconds = grace_seconds
        self._woken = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due steps now (a command was recorded, or a step finished)."""
        self._woken.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the worker for the block."""
        loop = asyncio.create_task(self._run(), name="payment-worker")
        try:
            yield
        finally:
            loop.cancel()
            # Waited for, not awaited: its cancellation is not to be taken for the caller's own.
            await asyncio.wait([loop])
            await self._finish_in_flight()

    async def _run(self) -> None:
        failures = 0
        while True:
            # Cleared before looking, so a wake-up while this round runs starts the next one at once.
            self._woken.clear()
            try:
                await self._claim_and_start()
                wait = await self._until_next_step()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = min(0.1 * 2**failures, 5.0)
                log.warning("payment worker cannot claim steps; retrying", error=repr(exc), retry_in_s=wait)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._woken.wait()

    async def _claim_and_start(self) -> None:
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return
        for claim in await self.cashier.claim(limit=free):
            task = asyncio.create_task(self._advance(claim), name=f"payment-step-{claim.payment.order_id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _until_next_step(self) -> float:
        """How long to sleep unless woken: until the next step is due, or a step in flight finishes."""
        if len(self._in_flight) >= self.concurrency:
            return self.idle_seconds  # every slot is busy: the first step to finish wakes the worker
        due_in = await self.cashier.next_due()
        if due_in is None:
            return self.idle_seconds
        # Never zero: a step due now but held by another instance's claim must not make this a busy loop.
        return min(max(due_in, 0.01), self.idle_seconds)

    async def _advance(self, claim: Claim) -> None:
        try:
            await self.cashier.advance(claim)
        except Exception as exc:
            log.error(
                "payment step failed; it is taken again when its claim lapses",
                order_id=claim.payment.order_id,
                step=claim.step.value,
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            self.wake()

    async def _finish_in_flight(self) -> None:
        if not self._in_flight:
            return
        _, cut_short = await asyncio.wait(set(self._in_flight), timeout=self.grace_seconds)
        for task in cut_short:
            task.cancel()
        if cut_short:
            await asyncio.wait(cut_short, timeout=self.grace_seconds)
            log.warning("payment steps cut short at stop; they are taken again later", steps=len(cut_short))
