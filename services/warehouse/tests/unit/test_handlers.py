"""The warehouse's command handlers, over the fakes: each command done once and answered where it stands."""

from __future__ import annotations

import pytest
from paved import Envelope
from paved.messaging import Command, Consumer
from paved.testing import RecordingOutbox, handling_of

from warehouse import handlers
from warehouse.contract import COMMANDS, DispatchOrder, Line, ReleaseStock, ReserveStock
from warehouse.domain import ReservationStatus

from .fakes import FakeStore, ManualClock, stocked

REPLIES = "orders.replies"


class Commands:
    """The warehouse's command handlers over a fake store; what they write goes to a recording outbox."""

    def __init__(self, store: FakeStore, clock: ManualClock) -> None:
        self.store = store
        self.consumer = Consumer(name="warehouse-commands", stream=COMMANDS.name, subjects=COMMANDS.subjects)
        handlers.register(self.consumer, warehouse_for=lambda _: store.warehouse(clock, joined=True))
        self.outbox = RecordingOutbox()

    async def handle(self, command: Command, *, reply_to: str | None = REPLIES) -> Envelope:
        """Handle ``command`` in a (fake) transaction, as the consumer does; returns its envelope."""
        handling = handling_of(command, outbox=self.outbox, reply_to=reply_to)
        with self.store.transaction():
            await self.consumer.handlers[type(command)](handling, command)
        return handling.envelope

    def replies(self) -> list[tuple[str, Envelope]]:
        """(subject, envelope) of each message written, in order."""
        return [(sent.subject, sent.envelope) for sent in self.outbox.sent]

    def last_reply(self) -> tuple[str, dict[str, object]]:
        subject, envelope = self.replies()[-1]
        assert subject == REPLIES
        return envelope.type, envelope.data


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def reserve(order_id: str = "o-1", quantity: int = 1, ttl_seconds: int = 900) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=(Line(sku="ALB-00001", quantity=quantity),), ttl_seconds=ttl_seconds)


async def test_reserve_stock_answers_stock_reserved_to_the_asker(clock: ManualClock) -> None:
    """The reply goes to the command's reply subject, caused by and correlated with the command."""
    commands = Commands(stocked(ALB_00001=2), clock)
    command = await commands.handle(reserve(quantity=2))
    [(subject, reply)] = commands.replies()
    assert subject == REPLIES
    assert reply.type == "warehouse.StockReserved"
    assert (reply.causation_id, reply.correlation_id) == (command.id, command.correlation_id)
    assert reply.data["lines"] == [{"sku": "ALB-00001", "quantity": 2}]
    assert commands.store.stock["ALB-00001"].reserved == 2


async def test_out_of_stock_is_an_answer_not_a_failure(clock: ManualClock) -> None:
    """A short order is answered OutOfStock with the shortages; the handler does not fail (no retry)."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve(quantity=3))
    assert commands.last_reply() == (
        "warehouse.OutOfStock",
        {"order_id": "o-1", "shortages": [{"sku": "ALB-00001", "requested": 3, "available": 1}]},
    )
    assert commands.store.reservations == {}


async def test_a_command_without_a_reply_subject_is_done_and_not_answered(clock: ManualClock) -> None:
    """Choreography sends commands with nobody waiting: the work is done, and no reply is written."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve(), reply_to=None)
    assert commands.replies() == []
    assert commands.store.reservations["o-1"].status is ReservationStatus.HELD


async def test_asking_again_answers_where_the_order_stands(clock: ManualClock) -> None:
    """A second ReserveStock for an order released meanwhile is answered StockReleased, and holds nothing."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve())
    await commands.handle(ReleaseStock(order_id="o-1"))
    await commands.handle(reserve())
    assert [envelope.type for _, envelope in commands.replies()] == [
        "warehouse.StockReserved",
        "warehouse.StockReleased",
        "warehouse.StockReleased",
    ]
    assert commands.last_reply()[1]["reason"] == "released"
    assert commands.store.stock["ALB-00001"].available == 1


async def test_dispatch_order_answers_order_dispatched(clock: ManualClock) -> None:
    """A held order is dispatched; the reply says when, and the units have left."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve())
    await commands.handle(DispatchOrder(order_id="o-1"))
    kind, data = commands.last_reply()
    assert kind == "warehouse.OrderDispatched" and data["dispatched_at"]
    assert commands.store.stock["ALB-00001"].dispatched == 1


async def test_dispatching_a_lapsed_hold_answers_that_it_expired_and_keeps_the_expiry(clock: ManualClock) -> None:
    """The refusal is answered StockReleased(expired), and the stock it let go is back (committed with the answer)."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve(ttl_seconds=60))
    clock.advance(seconds=61)
    await commands.handle(DispatchOrder(order_id="o-1"))
    kind, data = commands.last_reply()
    assert (kind, data["reason"]) == ("warehouse.StockReleased", "expired")
    assert commands.store.reservations["o-1"].status is ReservationStatus.EXPIRED
    assert commands.store.stock["ALB-00001"].available == 1


async def test_releasing_a_dispatched_order_answers_that_it_left(clock: ManualClock) -> None:
    """A compensation that comes too late is answered OrderDispatched: the units are gone, nothing changes."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(reserve())
    await commands.handle(DispatchOrder(order_id="o-1"))
    await commands.handle(ReleaseStock(order_id="o-1"))
    assert commands.last_reply()[0] == "warehouse.OrderDispatched"
    assert commands.store.stock["ALB-00001"].dispatched == 1


@pytest.mark.parametrize("command", [ReleaseStock(order_id="nope"), DispatchOrder(order_id="nope")])
async def test_an_order_never_reserved_is_answered_reservation_not_found(clock: ManualClock, command: Command) -> None:
    """Releasing or dispatching an unknown order is answered ReservationNotFound, naming it."""
    commands = Commands(stocked(ALB_00001=1), clock)
    await commands.handle(command)
    assert commands.last_reply() == ("warehouse.ReservationNotFound", {"order_id": "nope"})
