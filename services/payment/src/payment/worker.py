"""The worker: takes the due steps of payments to the card processor, beside the service, outside transactions.

Each round it claims what is due, runs each claimed step as its own task (at most ``concurrency`` at once, so
a slow processor ties up that many calls and no more), and sleeps until the next step is due or until it is
woken: by a command handled (``wake`` after its commit) or by a step finished. The service runs it as its
background task ``payment-worker`` (``run``); at stop, the calls in flight get the task's grace to finish.
"""

from __future__ import annotations

import asyncio

import structlog
from paved import poller

from payment.use_cases import Cashier, Claim

log = structlog.get_logger(logger_name="payment.worker")


class Worker:
    """Runs the cashier's steps with the processor while the service runs; one per process."""

    def __init__(self, cashier: Cashier, *, concurrency: int = 8, idle_seconds: float = 1.0) -> None:
        self.cashier = cashier
        self.concurrency = concurrency
        # Steps are also found without a wake-up (made due by another instance, or left by a crash).
        self.idle_seconds = idle_seconds
        self._woken = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due steps now (a command was recorded, or a step finished)."""
        self._woken.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Claim and take steps until ``stopping`` is set, then wait for the calls in flight.

        A poll (``paved.poller``) and then the wait: the poller returns as soon as ``stopping`` is set, but
        the calls it started are tasks of their own, which must not outlive the service's database. They
        are waited for within the grace the service gives this task; when that runs out the task is
        cancelled, and so are they: a step cut short stays claimed, and is taken again once its lease lapses.
        """
        try:
            await poller(self.step, every=self.idle_seconds, wake=self._woken)(stopping)
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))
        finally:
            cut_short = [task for task in self._in_flight if not task.done()]
            for task in cut_short:
                task.cancel()
            if cut_short:
                await asyncio.wait(cut_short)
                log.warning("payment steps cut short at stop; they are taken again later", steps=len(cut_short))

    async def step(self) -> float:
        """One round: start the due steps there is room for; the seconds until the next round is wanted."""
        free = self.concurrency - len(self._in_flight)
        if free > 0:
            for claim in await self.cashier.claim(limit=free):
                task = asyncio.create_task(self._advance(claim), name=f"payment-step-{claim.payment.order_id}")
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
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
        except Exception as exc:  # noqa: BLE001 - logged, with no traceback (its frames hold the card number)
            log.error(
                "payment step failed; it is taken again when its claim lapses",
                order_id=claim.payment.order_id,
                step=claim.step.value,
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            self.wake()
