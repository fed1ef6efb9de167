"""paved's background tasks and their poller: rounds, wake-ups, failures, and a stop that waits its grace."""

from __future__ import annotations

import asyncio
import time

import pytest

from paved import Run, poller
from paved.testing import Background


async def test_a_poll_runs_again_after_its_period_and_at_once_when_woken() -> None:
    """A step that asks for nothing runs every ``every`` seconds, and a wake-up brings the next round early."""
    rounds: list[float] = []
    wake = asyncio.Event()

    async def step() -> None:
        rounds.append(time.monotonic())

    stopping = asyncio.Event()
    task = asyncio.create_task(poller(step, every=10.0, wake=wake)(stopping))
    await asyncio.sleep(0.05)
    assert len(rounds) == 1  # the period is long: no second round by itself
    wake.set()
    await asyncio.sleep(0.05)
    assert len(rounds) == 2
    stopping.set()
    await asyncio.wait_for(task, timeout=1)


async def test_a_step_chooses_when_the_next_round_comes() -> None:
    """A step returning 0 runs again at once; one returning a delay runs after that delay, not the period."""
    delays = [0.0, 0.0, 0.05]
    rounds: list[float] = []

    async def step() -> float:
        rounds.append(time.monotonic())
        return delays.pop(0) if delays else 10.0

    stopping = asyncio.Event()
    task = asyncio.create_task(poller(step, every=10.0)(stopping))
    await asyncio.sleep(0.2)
    stopping.set()
    await asyncio.wait_for(task, timeout=1)
    assert len(rounds) == 4
    assert rounds[3] - rounds[2] >= 0.04


async def test_a_failing_round_is_retried_with_backoff_and_the_poll_goes_on() -> None:
    """A step that raises is logged and tried again after a backoff; the poll does not die of it."""
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("the database is away")

    stopping = asyncio.Event()
    task = asyncio.create_task(poller(step, every=10.0)(stopping))
    await asyncio.sleep(1.0)  # backoffs of 0.2 and 0.4 s
    stopping.set()
    await asyncio.wait_for(task, timeout=1)
    assert calls == 3


async def test_stop_gives_each_task_its_grace_then_cancels_it() -> None:
    """A task that finishes its work in hand within its grace ends by itself; one that does not is cancelled."""
    ended: list[str] = []

    async def polite(stopping: asyncio.Event) -> None:
        await stopping.wait()
        await asyncio.sleep(0.05)  # the work in hand
        ended.append("polite")

    async def deaf(stopping: asyncio.Event) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            ended.append("deaf cancelled")
            raise

    background = Background()
    background.add("polite", polite, grace=1.0)
    background.add("deaf", deaf, grace=0.1)
    background.start()
    await asyncio.sleep(0)
    started = time.monotonic()
    await background.stop()
    assert sorted(ended) == ["deaf cancelled", "polite"]
    assert time.monotonic() - started < 1.0


async def test_a_task_marked_last_stops_after_the_others() -> None:
    """The task marked ``last`` (the outbox relay) is told to stop only once every other task has stopped."""
    order: list[str] = []

    def recording(name: str) -> Run:
        async def run(stopping: asyncio.Event) -> None:
            await stopping.wait()
            await asyncio.sleep(0.02)
            order.append(name)

        return run

    background = Background()
    background.add("relay", recording("relay"), grace=1.0, last=True)
    background.add("worker", recording("worker"), grace=1.0)
    background.start()
    await background.stop()
    assert order == ["worker", "relay"]


def test_two_tasks_of_one_name_are_refused() -> None:
    """A second task of the same name is a wiring mistake, refused rather than run twice or lost."""
    background = Background()

    async def run(stopping: asyncio.Event) -> None:
        await stopping.wait()

    background.add("sender", run, grace=1.0)
    with pytest.raises(ValueError, match="sender"):
        background.add("sender", run, grace=1.0)
