"""Orchestrated sagas on a real JetStream broker: both services real, effects counted in the partners' table."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from paved_platform.nats import EmbeddedNats
from sqlalchemy import MetaData, select

import sagas_shop as shop
from paved import Service, ServiceSettings
from paved.messaging import Command, Handling, PendingRequest, Reply, messaging_tables
from paved.sagas import (
    Action,
    Orchestration,
    Orchestrator,
    Saga,
    SagaDefinitionError,
    SagaNotCancellableError,
    SagaNotFoundError,
    SagaStep,
    StepContext,
    saga_tables,
)
from paved.sagas._inspection import SagaStore
from paved.testing import create_tables
from shop import declare, eventually

pytestmark = pytest.mark.nats


@dataclass
class Shop:
    orders: Service
    partners: Service
    orders_url: str

    @property
    def orchestrator(self) -> Orchestrator:
        return self.orders.app.state.orchestrator  # type: ignore[no-any-return]

    @property
    def returns(self) -> Orchestrator:
        returns: Orchestrator = self.orders.app.state.returns
        return returns

    async def start(self, saga_id: str, *, saga: Orchestrator | None = None) -> None:
        async with self.orders.database.transaction() as session:
            await (saga or self.orchestrator).start(session, saga_id, {"order_id": saga_id})

    async def finished(self, saga_id: str) -> tuple[str, bool]:
        """(state, needs_attention) once the saga ended or needs a person."""

        async def ended() -> tuple[str, bool] | None:
            async with SagaStore("orders", self.orders_url) as store:
                found = await store.show(saga_id)
            if found is None:
                return None
            summary, _ = found
            return (summary.state, summary.needs_attention) if summary.finished or summary.needs_attention else None

        result: tuple[str, bool] | None = await eventually(ended)
        assert result is not None, f"saga {saga_id} did not finish"
        return result

    async def timeline(self, saga_id: str) -> list[tuple[str, str, str]]:
        async with SagaStore("orders", self.orders_url) as store:
            found = await store.show(saga_id)
        assert found is not None
        return [(e.step, e.kind, e.outcome) for e in found[1]]

    async def changes(self, saga_id: str) -> list[tuple[str, str]]:
        async with self.orders.database.read() as session:
            rows = await session.execute(
                select(shop.changes.c.step, shop.changes.c.outcome).where(shop.changes.c.saga_id == saga_id)
            )
            return [(step, outcome) for step, outcome in rows]


async def _databases(tmp_path: Path, broker_url: str) -> tuple[str, str]:
    orders_url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    partners_url = f"sqlite+aiosqlite:///{tmp_path}/partners.db"
    await create_tables(orders_url, shop.orders_metadata)
    await create_tables(partners_url, shop.partners_metadata)
    await declare(broker_url, shop.partners_service(database_url=partners_url, broker_url=broker_url))
    return orders_url, partners_url


@pytest.fixture
async def running(tmp_path: Path, broker: EmbeddedNats) -> AsyncIterator[Shop]:
    shop.BEHAVIOUR.clear()
    shop._seen.clear()
    orders_url, partners_url = await _databases(tmp_path, broker.url)
    orders = shop.orders_service(database_url=orders_url, broker_url=broker.url, deadline=timedelta(seconds=2))
    partners = shop.partners_service(database_url=partners_url, broker_url=broker.url)
    async with orders.running(), partners.running():
        yield Shop(orders, partners, orders_url)


async def test_happy_path_runs_every_step_in_order(running: Shop) -> None:
    await running.start("o-1")
    assert await running.finished("o-1") == ("completed", False)
    assert await shop.effects_of(running.partners, "o-1") == ["reserve", "pay", "award", "dispatch"]
    sent = [step for step, kind, outcome in await running.timeline("o-1") if outcome == "succeeded"]
    assert sent == ["reserve", "pay", "award", "dispatch"]
    assert (await running.changes("o-1"))[-1] == ("dispatch", "completed")


async def test_a_refused_pivot_compensates_the_steps_before_it(running: Shop) -> None:
    await running.start("declined-1")
    assert await running.finished("declined-1") == ("compensated", False)
    assert await shop.effects_of(running.partners, "declined-1") == ["reserve", "release"]
    assert ("pay", "failed") in await running.changes("declined-1")


async def test_a_refused_first_step_has_nothing_to_compensate(running: Shop) -> None:
    await running.start("oos-1")
    assert await running.finished("oos-1") == ("compensated", False)
    assert await shop.effects_of(running.partners, "oos-1") == []


async def test_after_the_pivot_a_refused_step_is_retried_forward(running: Shop) -> None:
    shop.BEHAVIOUR["o-2"] = {"dispatch": "refuse-twice"}
    await running.start("o-2")
    assert await running.finished("o-2") == ("completed", False)
    assert await shop.effects_of(running.partners, "o-2") == ["reserve", "pay", "award", "dispatch"]
    outcomes = [(step, outcome) for step, _, outcome in await running.timeline("o-2") if step == "dispatch"]
    # Twice refused, twice retried after a backoff (a reply late on a loaded machine may add a retry).
    assert outcomes.count(("dispatch", "failed")) >= 1
    assert outcomes.count(("dispatch", "retrying")) >= 2


async def test_an_unanswered_step_is_asked_again_then_compensated_with_itself(running: Shop) -> None:
    """Unanswered is not undone: after its attempts, the silent step's own compensation runs too."""
    shop.BEHAVIOUR["o-3"] = {"reserve": "ignore"}
    await running.start("o-3")
    assert await running.finished("o-3") == ("compensated", False)
    assert shop._seen[("o-3", "reserve")] == 3
    assert await shop.effects_of(running.partners, "o-3") == ["release"]


async def test_a_compensation_that_keeps_failing_needs_attention_until_a_person_re_drives_it(running: Shop) -> None:
    shop.BEHAVIOUR["declined-2"] = {"pay": "refuse", "release": "refuse"}
    await running.start("declined-2")
    assert await running.finished("declined-2") == ("compensating", True)
    assert shop._seen[("declined-2", "release")] == 3
    async with SagaStore("orders", running.orders_url) as store:
        stuck = await store.list(stuck_after=timedelta(hours=1))
        assert [s.id for s in stuck] == ["declined-2"]
        assert stuck[0].reason == "the compensation of reserve refused (partners.Refused) after 3 attempts"
        shop.BEHAVIOUR["declined-2"] = {"pay": "refuse"}  # the fix
        assert await store.retry("declined-2") is True
        assert await store.retry("declined-2") is False  # it needs no attention any more
    assert await running.finished("declined-2") == ("compensated", False)
    assert await shop.effects_of(running.partners, "declined-2") == ["reserve", "release"]


async def test_a_cancellation_before_the_pivot_waits_for_the_step_in_hand_then_compensates(running: Shop) -> None:
    shop.BEHAVIOUR["o-4"] = {"pay": "ignore"}  # the pivot stays in hand while the customer cancels
    await running.start("o-4")

    async def paying() -> bool:
        return ("pay", "action", "sent") in await running.timeline("o-4")

    assert await eventually(paying)
    async with running.orders.database.transaction() as session:
        await running.orchestrator.cancel(session, "o-4", reason="the customer cancelled")
    assert await running.finished("o-4") == ("compensated", False)
    # The payment never answered, so it is refunded as well as the stock released.
    assert await shop.effects_of(running.partners, "o-4") == ["reserve", "refund", "release"]
    assert shop._seen[("o-4", "pay")] == 1  # a cancelled saga does not ask again


async def test_past_the_pivot_a_saga_cannot_be_cancelled(running: Shop) -> None:
    await running.start("o-5")
    assert await running.finished("o-5") == ("completed", False)
    async with running.orders.database.transaction() as session:
        with pytest.raises(SagaNotCancellableError):
            await running.orchestrator.cancel(session, "o-5", reason="too late")


def test_a_saga_is_declared_with_distinct_steps_and_one_pivot() -> None:
    step = shop.fulfilment().steps[0]
    with pytest.raises(SagaDefinitionError, match="twice"):
        Saga("s", step, step)
    with pytest.raises(SagaDefinitionError, match="more than one pivot"):
        Saga("s", SagaStep("a", step.action, pivot=True), SagaStep("b", step.action, pivot=True))
    with pytest.raises(SagaDefinitionError, match="no steps"):
        Saga("s")


async def test_two_sagas_in_one_service_each_take_their_own_replies_and_timeouts(running: Shop) -> None:
    """Two sagas sharing reply types in one service: each instance's answers follow its own saga's steps."""
    shop.BEHAVIOUR["r-2"] = {"refund": "ignore"}
    await running.start("o-6")
    await running.start("r-1", saga=running.returns)
    await running.start("r-2", saga=running.returns)
    assert await running.finished("o-6") == ("completed", False)
    assert await running.finished("r-1") == ("completed", False)
    assert await shop.effects_of(running.partners, "r-1") == ["release", "refund"]
    assert [step for step, _, outcome in await running.timeline("r-1") if outcome == "succeeded"] == [
        "collect",
        "repay",
    ]
    # Its last step unanswered: the returns saga compensates what it did by its own declaration (the
    # fulfilment's step 2 would have refunded a payment).
    assert await running.finished("r-2") == ("compensated", False)
    assert shop._seen[("r-2", "refund")] == 2
    assert await shop.effects_of(running.partners, "r-2") == ["release", "reserve"]
    async with running.orders.database.transaction() as session:
        with pytest.raises(SagaNotFoundError):
            await running.returns.cancel(session, "o-6", reason="not one of the returns")


def _orchestration() -> Orchestration:
    metadata = MetaData()
    settings = ServiceSettings(database_url="sqlite+aiosqlite:///:memory:")
    service = Service(name="orders", version="0", settings=settings, messaging=messaging_tables(metadata))
    requests = service.messaging.send_commands()
    return Orchestration(tables=saga_tables(metadata), requests=requests, database=service.database)


def test_a_saga_is_orchestrated_once_per_service() -> None:
    """A second saga of the same name in one service is refused, not run over the first."""
    orchestration = _orchestration()
    orchestration.orchestrate(shop.fulfilment())
    with pytest.raises(SagaDefinitionError, match="'fulfilment' is orchestrated twice"):
        orchestration.orchestrate(shop.fulfilment())
    orchestration.orchestrate(shop.returns())  # another name, the same reply types: routed by name


def test_a_reply_type_another_handler_takes_is_refused() -> None:
    """A saga awaiting a reply type that something else handles on the reply consumer is refused, naming it."""

    class Collected(Reply, type="test.Collected"):
        pass

    async def build(context: StepContext) -> Command:
        return shop.Release(order_id=context.saga_id)

    async def elsewhere(handling: Handling, reply: Collected, request: PendingRequest) -> None:
        """Some other continuation of the service's own."""

    orchestration = _orchestration()
    orchestration.requests.on_reply(Collected)(elsewhere)
    saga = Saga("returns", SagaStep("collect", Action(build, succeeded=(Collected,))))
    with pytest.raises(SagaDefinitionError, match=r"test\.Collected"):
        orchestration.orchestrate(saga)


def _process(role: str, tmp_path: Path, database_url: str, broker_url: str, start: str = "") -> subprocess.Popen[bytes]:
    ready = tmp_path / f"{role}.ready"
    ready.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "READY_FILE": str(ready),
        "START": start,
        # Partners answer every command here: a deadline is only how long a slow answer is waited for, and on
        # a loaded machine (CI runs three builds at once) 5 s was sometimes too short, so a compensation ran
        # out of attempts and the saga waited for a person. This test is about kill -9, not deadlines.
        "DEADLINE_SECONDS": "30",
        "PYTHONPATH": str(Path(__file__).parent),
    }
    log = (tmp_path / f"{role}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "sagas_shop.py"), role], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert process.poll() is None, (tmp_path / f"{role}.log").read_text()
        assert time.monotonic() < deadline, "the process did not start"
        time.sleep(0.05)
    return process


async def test_sagas_survive_the_orchestrator_killed_mid_flight(tmp_path: Path, broker: EmbeddedNats) -> None:
    """kill -9 the orchestrator while 30 sagas are under way; a new process finishes every one, each step once."""
    orders_url, partners_url = await _databases(tmp_path, broker.url)
    partners = _process("partners", tmp_path, partners_url, broker.url)
    ids = [f"o-{n}" for n in range(20)] + [f"declined-{n}" for n in range(10)]
    try:
        first = _process("orders", tmp_path, orders_url, broker.url, start=",".join(ids))
        await asyncio.sleep(0.3)  # some sagas are past some steps, none are all done
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = _process("orders", tmp_path, orders_url, broker.url)
        try:
            async with SagaStore("orders", orders_url) as store:

                async def all_finished() -> bool:
                    return (
                        all(s.finished for s in await store.list(limit=100)) and len(await store.list(limit=100)) == 30
                    )

                assert await eventually(all_finished, timeout=60)
                states = {s.id: s.state for s in await store.list(limit=100)}
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        partners.send_signal(signal.SIGTERM)
        partners.wait(timeout=30)
    assert {states[i] for i in ids if i.startswith("o-")} == {"completed"}
    assert {states[i] for i in ids if i.startswith("declined-")} == {"compensated"}
    viewer = shop.partners_service(database_url=partners_url, broker_url=broker.url)
    await viewer.database.start()
    try:
        counts = await shop.effect_counts(viewer)
    finally:
        await viewer.database.stop()
    # What each order needed was done, and nothing else: no payment for a declined one, no release
    # for a completed one (a late answer makes the orchestrator ask again; the partner does it once).
    assert counts == {"reserve": 30, "pay": 20, "award": 20, "dispatch": 20, "release": 10}
