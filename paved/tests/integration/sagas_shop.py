"""A small shop for the saga tests: `orders` orchestrates a fulfilment, `partners` answers its commands.

The partners record every effect in their own table, so the tests check effects, not log lines. How a
partner answers is set per order id in ``BEHAVIOUR`` (same process), or by the order id itself
(``declined-…``, ``oos-…``) when run as a process (``python sagas_shop.py ROLE``), so tests can kill it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from paved import Service, ServiceSettings
from paved.messaging import Command, Handling, Reply, Stream, messaging_tables
from paved.sagas import Action, Orchestration, Orchestrator, Saga, SagaChange, SagaStep, StepContext, saga_tables

# -- contracts ---------------------------------------------------------------------------------------


class Reserve(Command, type="partners.Reserve"):
    order_id: str


class Release(Command, type="partners.Release"):
    order_id: str


class Pay(Command, type="partners.Pay"):
    order_id: str


class Refund(Command, type="partners.Refund"):
    order_id: str


class Award(Command, type="partners.Award"):
    order_id: str


class Dispatch(Command, type="partners.Dispatch"):
    order_id: str


class Done(Reply, type="partners.Done"):
    order_id: str
    what: str


class Refused(Reply, type="partners.Refused"):
    order_id: str
    why: str


COMMANDS = {"reserve": Reserve, "release": Release, "pay": Pay, "refund": Refund, "award": Award, "dispatch": Dispatch}

# -- orders: the orchestrator ------------------------------------------------------------------------

orders_metadata = MetaData()
orders_messaging = messaging_tables(orders_metadata)
orders_sagas = saga_tables(orders_metadata)
# What the orchestrating service learnt from on_change, as it would update its own order.
changes = Table(
    "changes", orders_metadata, Column("saga_id", String), Column("step", String), Column("outcome", String)
)


def _action(name: str, *, deadline: timedelta, failed: bool = True) -> Action:
    async def build(context: StepContext) -> Command:
        return COMMANDS[name](order_id=context.data["order_id"])

    return Action(build, succeeded=(Done,), failed=(Refused,) if failed else (), deadline=deadline)


def fulfilment(deadline: timedelta = timedelta(seconds=5)) -> Saga:
    return Saga(
        "fulfilment",
        SagaStep("reserve", _action("reserve", deadline=deadline), compensation=_action("release", deadline=deadline)),
        SagaStep(
            "pay", _action("pay", deadline=deadline), compensation=_action("refund", deadline=deadline), pivot=True
        ),
        SagaStep("award", _action("award", deadline=deadline), attempts=3),
        SagaStep("dispatch", _action("dispatch", deadline=deadline), attempts=3),
        compensation_attempts=3,
    )


def returns(deadline: timedelta = timedelta(seconds=5)) -> Saga:
    """A second saga of the orders service, with steps of other names and commands in another order."""
    return Saga(
        "returns",
        SagaStep("collect", _action("release", deadline=deadline), compensation=_action("reserve", deadline=deadline)),
        SagaStep("repay", _action("refund", deadline=deadline), attempts=2),
    )


def orders_service(*, database_url: str, broker_url: str, deadline: timedelta = timedelta(seconds=5)) -> Service:
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = Service(name="orders", version="0", settings=settings, messaging=orders_messaging)
    service.messaging.sends(*COMMANDS.values())
    requests = service.messaging.send_commands()

    async def remember(session: AsyncSession, change: SagaChange) -> None:
        await session.execute(insert(changes).values(saga_id=change.saga_id, step=change.step, outcome=change.outcome))

    orchestration = Orchestration(
        tables=orders_sagas, requests=requests, database=service.database, backoff=lambda attempt: 100
    )
    # Two sagas in one service, awaiting replies of the same types: each answer goes to its instance's saga.
    service.app.state.orchestrator = orchestration.orchestrate(fulfilment(deadline), on_change=remember)
    service.app.state.returns = orchestration.orchestrate(returns(deadline), on_change=remember)
    service.background("paved-saga-wake-ups", orchestration.wake_ups())
    return service


# -- partners ------------------------------------------------------------------------------------------

partners_metadata = MetaData()
partners_messaging = messaging_tables(partners_metadata)
# Like the shop's real partners, these do a thing once per order, however often they are asked
# (the orchestrator asks again, with a new message, when an answer is late).
effects = Table(
    "effects",
    partners_metadata,
    Column("order_id", String, primary_key=True),
    Column("what", String, primary_key=True),
    Column("seq", Integer),
)

# order id -> {command name: what to do}: "refuse", "ignore" (no reply), "refuse-twice" (then do it)
BEHAVIOUR: dict[str, dict[str, str]] = {}
_seen: Counter[tuple[str, str]] = Counter()


def _behaviour(order_id: str, name: str) -> str:
    if order_id in BEHAVIOUR:
        return BEHAVIOUR[order_id].get(name, "do")
    if order_id.startswith("declined-") and name == "pay":
        return "refuse"
    if order_id.startswith("oos-") and name == "reserve":
        return "refuse"
    return "do"


def partners_service(*, database_url: str, broker_url: str) -> Service:
    settings = ServiceSettings(database_url=database_url, broker_url=broker_url)
    service = Service(name="partners", version="0", settings=settings, messaging=partners_messaging)
    commands = service.messaging.own(Stream("PARTNERS_COMMANDS", subjects=["partners.commands.>"]))
    consumer = service.messaging.consumer("partners-commands", stream=commands, subjects=["partners.commands.>"])
    for name, command_type in COMMANDS.items():

        async def handle(handling: Handling, command: Command, name: str = name) -> None:
            order_id = command.order_id  # type: ignore[attr-defined]
            behaviour = _behaviour(order_id, name)
            _seen[(order_id, name)] += 1
            if behaviour == "ignore":
                return
            if behaviour == "refuse" or (behaviour == "refuse-twice" and _seen[(order_id, name)] <= 2):
                await handling.reply(Refused(order_id=order_id, why=f"{name} refused"))
                return
            done = await handling.session.execute(
                select(effects.c.what).where(effects.c.order_id == order_id, effects.c.what == name)
            )
            if done.first() is None:
                count = (await handling.session.execute(select(func.count()).select_from(effects))).scalar_one()
                await handling.session.execute(insert(effects).values(order_id=order_id, what=name, seq=count))
            await handling.reply(Done(order_id=order_id, what=name))

        consumer.handles(command_type, senders=["orders"])(handle)
    return service


async def effects_of(service: Service, order_id: str) -> list[str]:
    async with service.database.read() as session:
        rows = await session.execute(
            select(effects.c.what).where(effects.c.order_id == order_id).order_by(effects.c.seq)
        )
        return [what for (what,) in rows]


async def effect_counts(service: Service) -> dict[str, int]:
    async with service.database.read() as session:
        rows = await session.execute(select(effects.c.what, func.count()).group_by(effects.c.what))
        return dict(rows.all())


# -- as a process --------------------------------------------------------------------------------------


async def _main(role: str) -> None:
    database_url, broker_url = os.environ["DATABASE_URL"], os.environ["BROKER_URL"]
    if role == "orders":
        deadline = timedelta(seconds=float(os.environ.get("DEADLINE_SECONDS", "5")))
        service = orders_service(database_url=database_url, broker_url=broker_url, deadline=deadline)
    else:
        service = partners_service(database_url=database_url, broker_url=broker_url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with service.running():
        Path(os.environ["READY_FILE"]).write_text("ready")
        if role == "orders" and os.environ.get("START"):
            orchestrator: Orchestrator = service.app.state.orchestrator
            for order_id in os.environ["START"].split(","):
                async with service.database.transaction() as session:
                    await orchestrator.start(session, order_id, {"order_id": order_id})
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
