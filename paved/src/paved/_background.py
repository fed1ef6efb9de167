"""Background work of a service: tasks that run while it serves, and the one poller they share.

A task is ``run(stopping)``: it works until ``stopping`` is set, then returns. The service starts every
task once its database, broker and start-up steps are up, and at shutdown sets ``stopping``, gives each
task its grace to finish the work in hand, and only then cancels it, before the broker and the database
stop. Most background work is a poll (the outbox relay, request deadlines, a saga's wake-ups, a
sender's queue): ``poller(step, every=...)`` makes that task, so no service writes the loop again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(logger_name="paved.background")

Run = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A background task: works until the event (``stopping``) is set, then returns."""

Step = Callable[[], Awaitable[float | None]]
"""One round of a poll; returns the seconds until the next round is wanted (0: at once), or None for
the poller's own period."""

_MAX_BACKOFF_SECONDS = 5.0


def poller(step: Step, *, every: float, wake: asyncio.Event | None = None, linger: float = 0.0) -> Run:
    """A task that runs ``step`` round after round until stopped.

    The next round comes after the delay ``step`` returns, else after ``every`` seconds, or as soon as
    ``wake`` is set (then ``linger`` seconds later, so that the wake-ups of a busy moment are one
    round). A round that raises (the database or broker away) is logged, and the next is tried after a
    backoff of 0.2 s doubling to 5 s: a poll never dies of a failure.
    """

    async def run(stopping: asyncio.Event) -> None:
        failures = 0
        while not stopping.is_set():
            if wake is not None:
                wake.clear()  # before the round: a wake-up during it brings the next round at once
            try:
                delay = await step()
            except Exception as exc:  # noqa: BLE001 - logged; the next round tries again
                failures += 1
                delay = min(0.1 * 2**failures, _MAX_BACKOFF_SECONDS)
                log.warning(
                    "background step failed; retrying",
                    step=getattr(step, "__qualname__", repr(step)),
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in_s=delay,
                )
                await _sleep(delay, stopping)
                continue
            failures = 0
            if delay == 0:
                continue
            if await _sleep(every if delay is None else delay, stopping, wake) and linger:
                await _sleep(linger, stopping)

    return run


async def _sleep(seconds: float, stopping: asyncio.Event, wake: asyncio.Event | None = None) -> bool:
    """Wait ``seconds``, or until stopping or woken; True if woken."""
    events = [stopping] if wake is None else [stopping, wake]
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return wake is not None and wake.is_set() and not stopping.is_set()


@dataclass(frozen=True)
class _Task:
    name: str
    run: Run
    grace: float
    last: bool


class Background:
    """The background tasks of one service: started together, stopped together, none dying unnoticed."""

    def __init__(self) -> None:
        self._declared: list[_Task] = []
        self._running: dict[asyncio.Task[None], _Task] = {}
        self._stopping = asyncio.Event()
        self._stopping_last = asyncio.Event()

    def add(self, name: str, run: Run, *, grace: float, last: bool = False) -> None:
        """Declare a task; one marked ``last`` stops after all the others have (the outbox relay: what
        they write while they stop is still sent)."""
        if any(task.name == name for task in self._declared):
            raise ValueError(f"a background task named {name!r} is already declared")
        self._declared.append(_Task(name, run, grace, last))

    def start(self) -> None:
        self._stopping, self._stopping_last = asyncio.Event(), asyncio.Event()
        for declared in self._declared:
            stopping = self._stopping_last if declared.last else self._stopping
            task = asyncio.create_task(declared.run(stopping), name=declared.name)
            task.add_done_callback(self._report_end)
            self._running[task] = declared

    def _report_end(self, task: asyncio.Task[None]) -> None:
        # A task must not end unnoticed while the service runs: that would stop a consumer or the relay.
        if task.cancelled() or self._stopping.is_set() or self._stopping_last.is_set():
            return
        error = task.exception()
        log.error("background task ended while the service runs", task=task.get_name(), error=repr(error))

    async def stop(self) -> None:
        """Tell every task to stop, give each its grace to finish the work in hand, then cancel it."""
        running, self._running = self._running, {}
        for last, stopping in ((False, self._stopping), (True, self._stopping_last)):
            stopping.set()
            wave = [(task, declared) for task, declared in running.items() if declared.last is last]
            await asyncio.gather(*(_stop(task, grace=declared.grace) for task, declared in wave))


async def _stop(task: asyncio.Task[None], *, grace: float) -> None:
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("background task did not stop within its grace; cancelling it", task=task.get_name())
        task.cancel()
        # Bounded: a task that swallows its cancellation must not keep the service from stopping.
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            log.error("background task did not stop when cancelled", task=task.get_name())
            return
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", task=task.get_name(), error=repr(task.exception()))
