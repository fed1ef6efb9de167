"""The warehouse's invariants, over any sequence of operations hypothesis can think of.

Use cases run over the in-memory fakes, in the caller's fake transaction (as a handled message's do).
A refused use case is either rolled back (as an HTTP request's transaction is) or committed (as a
command handler that answers the refusal commits what the use case settled before it): the invariants
must hold both ways.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from warehouse.domain import (
    AlreadyDispatchedError,
    Line,
    OrderDispatched,
    OutOfStockError,
    ReceiptMismatchError,
    ReservationExpiredError,
    ReservationMismatchError,
    ReservationNotFoundError,
    ReservationReleasedError,
    ReservationStatus,
    StockReleased,
    StockReserved,
)

from .fakes import FakeStore, ManualClock

T = TypeVar("T")

SKUS = ["ALB-00001", "ALB-00002", "ALB-00003"]
orders = st.sampled_from([f"o-{n}" for n in range(6)])
order_lines = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=3).map(
    lambda wanted: [Line(sku, quantity) for sku, quantity in wanted.items()]
)


class WarehouseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.store = FakeStore()
        self.warehouse = self.store.warehouse(self.clock, joined=True)
        self.booked: dict[str, tuple[str, int]] = {}  # the model: receipt id -> (sku, quantity)

    def teardown(self) -> None:
        self.loop.close()

    def run(self, operation: Awaitable[T], *, commit_refusal: bool = False) -> T:
        """Run an operation in a fake transaction: undone if it raises, unless a refusal is to be committed."""
        if commit_refusal:
            return self.loop.run_until_complete(operation)
        with self.store.transaction():
            return self.loop.run_until_complete(operation)

    def effective_available(self, sku: str) -> int:
        """What a reservation may take: the shelf, plus what lapsed holds have not yet put back."""
        stock = self.store.stock.get(sku)
        lapsed = sum(
            line.quantity
            for r in self.store.reservations.values()
            if r.is_lapsed(self.clock())
            for line in r.lines
            if line.sku == sku
        )
        return (stock.available if stock else 0) + lapsed

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 4), receipt=st.integers(0, 8))
    def receive(self, sku: str, quantity: int, receipt: int) -> None:
        receipt_id = f"r-{receipt}"
        expected = self.booked.setdefault(receipt_id, (sku, quantity))
        try:
            self.run(self.warehouse.receive(receipt_id=receipt_id, sku=sku, quantity=quantity))
        except ReceiptMismatchError:
            assert expected != (sku, quantity)
        else:
            assert expected == (sku, quantity)

    @rule(order_id=orders, lines=order_lines, ttl=st.integers(1, 120), as_handler=st.booleans())
    def reserve(self, order_id: str, lines: list[Line], ttl: int, as_handler: bool) -> None:
        existing = self.store.reservations.get(order_id)
        short = {line.sku for line in lines if line.quantity > self.effective_available(line.sku)}
        try:
            self.run(
                self.warehouse.reserve(order_id=order_id, lines=lines, ttl=timedelta(seconds=ttl)),
                commit_refusal=as_handler,
            )
        except ReservationMismatchError:
            assert existing is not None and not existing.covers(lines)
        except OutOfStockError as refused:
            assert existing is None
            assert {s.sku for s in refused.shortages} == short
            assert all(s.available == self.effective_available(s.sku) for s in refused.shortages)
        else:
            assert existing is not None or not short  # a new reservation never takes what is not there

    @rule(order_id=orders, as_handler=st.booleans())
    def release(self, order_id: str, as_handler: bool) -> None:
        before = self.store.reservations.get(order_id)
        try:
            self.run(self.warehouse.release(order_id), commit_refusal=as_handler)
        except ReservationNotFoundError:
            assert before is None
        except AlreadyDispatchedError:
            assert before is not None and before.status is ReservationStatus.DISPATCHED
        else:
            assert before is not None and before.status is not ReservationStatus.DISPATCHED

    @rule(order_id=orders, as_handler=st.booleans())
    def pick(self, order_id: str, as_handler: bool) -> None:
        self.act(order_id, "pick", as_handler=as_handler)

    @rule(order_id=orders, as_handler=st.booleans())
    def dispatch(self, order_id: str, as_handler: bool) -> None:
        self.act(order_id, "dispatch", as_handler=as_handler)

    def act(self, order_id: str, action: str, *, as_handler: bool) -> None:
        """Pick or dispatch, checking that it is refused exactly when the hold was let go or has lapsed."""
        before = self.store.reservations.get(order_id)
        lapsed = before is not None and before.is_lapsed(self.clock())
        try:
            self.run(getattr(self.warehouse, action)(order_id), commit_refusal=as_handler)
        except ReservationNotFoundError:
            assert before is None
        except ReservationExpiredError:
            assert before is not None and (lapsed or before.status is ReservationStatus.EXPIRED)
        except ReservationReleasedError:
            assert before is not None and before.status is ReservationStatus.RELEASED
        else:
            assert before is not None and not lapsed
            assert before.status in (ReservationStatus.HELD, ReservationStatus.PICKED, ReservationStatus.DISPATCHED)

    @rule(seconds=st.integers(0, 90))
    def wait(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @rule(skus=st.sets(st.sampled_from(SKUS), min_size=1))
    def look(self, skus: set[str]) -> None:
        self.run(self.warehouse.levels(skus))
        now = self.clock()
        assert not any(r.is_lapsed(now) and set(r.skus) & skus for r in self.store.reservations.values())

    @precondition(lambda self: bool(self.store.reservations))
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.store.reservations)))
        assert not self.run(self.warehouse.reservation(order_id)).is_lapsed(self.clock())

    @invariant()
    def every_unit_received_is_in_one_place(self) -> None:
        received = Counter[str]()
        for sku, quantity in self.booked.values():
            received[sku] += quantity
        for sku, stock in self.store.stock.items():
            assert min(stock.available, stock.reserved, stock.dispatched) >= 0
            assert stock.available + stock.reserved + stock.dispatched == stock.received
            # A receipt counts once, however often it was sent; a refused one added nothing.
            assert stock.received == sum(r.quantity for r in self.store.receipts.values() if r.sku == sku)
            assert stock.received == received[sku]

    @invariant()
    def reserved_and_dispatched_are_what_the_reservations_say(self) -> None:
        held, dispatched = Counter[str](), Counter[str]()
        for reservation in self.store.reservations.values():
            for line in reservation.lines:
                if reservation.status in (ReservationStatus.HELD, ReservationStatus.PICKED):
                    held[line.sku] += line.quantity
                elif reservation.status is ReservationStatus.DISPATCHED:
                    dispatched[line.sku] += line.quantity
        for sku, stock in self.store.stock.items():
            assert (stock.reserved, stock.dispatched) == (held[sku], dispatched[sku])

    @invariant()
    def a_reservation_is_released_at_most_once_dispatched_at_most_once_never_both(self) -> None:
        facts = Counter((type(fact), getattr(fact, "order_id", None)) for fact in self.store.announced)
        for order_id, reservation in self.store.reservations.items():
            released, dispatched = facts[(StockReleased, order_id)], facts[(OrderDispatched, order_id)]
            assert facts[(StockReserved, order_id)] == 1
            assert released <= 1 and dispatched <= 1 and released + dispatched <= 1
            assert released == (reservation.status in (ReservationStatus.RELEASED, ReservationStatus.EXPIRED))
            assert dispatched == (reservation.status is ReservationStatus.DISPATCHED)
            assert reservation.released_at is None or reservation.dispatched_at is None

    @invariant()
    def nothing_is_announced_for_orders_that_were_never_reserved(self) -> None:
        ordered = {getattr(fact, "order_id", None) for fact in self.store.announced} - {None}
        assert ordered <= set(self.store.reservations)


WarehouseMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestWarehouseInvariants = WarehouseMachine.TestCase
TestWarehouseInvariants.__doc__ = "The invariants hold after every step of any sequence of operations."
