from __future__ import annotations

from datetime import timedelta

import pytest

from warehouse.domain import (
    Line,
    OrderDispatched,
    OutOfStockError,
    ReceiptMismatchError,
    ReservationExpiredError,
    ReservationMismatchError,
    ReservationNotFoundError,
    ReservationStatus,
    StockReceived,
    StockReleased,
    StockReserved,
)

from .fakes import START, FakeStore, ManualClock, stocked

TTL = timedelta(minutes=15)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def counts(store: FakeStore, sku: str) -> tuple[int, int, int, int]:
    stock = store.stock[sku]
    return stock.received, stock.available, stock.reserved, stock.dispatched


async def test_a_receipt_is_booked_once() -> None:
    """The same receipt id again changes nothing; with another quantity it is refused."""
    store, clock = FakeStore(), ManualClock()
    warehouse = store.warehouse(clock)
    stock, new = await warehouse.receive(receipt_id="r-1", sku="ALB-00001", quantity=4)
    again, repeated = await warehouse.receive(receipt_id="r-1", sku="ALB-00001", quantity=4)
    assert (new, repeated) == (True, False)
    assert stock == again and counts(store, "ALB-00001") == (4, 4, 0, 0)
    with pytest.raises(ReceiptMismatchError):
        await warehouse.receive(receipt_id="r-1", sku="ALB-00001", quantity=5)
    with pytest.raises(ReceiptMismatchError):
        await warehouse.receive(receipt_id="r-1", sku="ALB-00002", quantity=4)
    assert store.announced == [StockReceived("ALB-00001", 4, "r-1", START)]


async def test_reserving_again_returns_the_same_reservation(clock: ManualClock) -> None:
    """Idempotent per order id: a repeat holds nothing more, announces nothing more, and says it is not new."""
    store = stocked(ALB_00001=3)
    warehouse = store.warehouse(clock)
    first, new = await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL)
    clock.advance(minutes=1)
    again, repeated = await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL * 2)
    assert (new, repeated) == (True, False)
    assert again == first  # same hold, same expiry: the repeat's own TTL does not extend it
    assert counts(store, "ALB-00001") == (3, 1, 2, 0)
    assert [type(fact) for fact in store.announced] == [StockReserved]


async def test_reserving_again_with_other_lines_is_refused(clock: ManualClock) -> None:
    """An order's reservation cannot be changed by asking again with different lines."""
    store = stocked(ALB_00001=3, ALB_00002=3)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 1)], ttl=TTL)
    with pytest.raises(ReservationMismatchError, match="o-1"):
        await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 1), Line("ALB-00002", 1)], ttl=TTL)
    assert counts(store, "ALB-00002") == (3, 3, 0, 0)


async def test_a_sku_never_received_is_out_of_stock(clock: ManualClock) -> None:
    """Reserving a SKU the warehouse has no record of is a shortage of everything asked."""
    store = stocked(ALB_00001=3)
    with pytest.raises(OutOfStockError) as refused:
        await store.warehouse(clock).reserve(
            order_id="o-1", lines=[Line("ALB-00001", 1), Line("NEW-00001", 2)], ttl=TTL
        )
    assert [(s.sku, s.requested, s.available) for s in refused.value.shortages] == [("NEW-00001", 2, 0)]
    assert store.reservations == {} and counts(store, "ALB-00001") == (3, 3, 0, 0)


async def test_a_lapsed_hold_gives_way_to_the_next_order(clock: ManualClock) -> None:
    """Lazy expiry: the last unit, held by an order whose hold lapsed unseen, goes to the next order that asks."""
    store = stocked(ALB_00001=1)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="abandoned", lines=[Line("ALB-00001", 1)], ttl=TTL)
    clock.advance(minutes=15)
    taken, _ = await warehouse.reserve(order_id="next", lines=[Line("ALB-00001", 1)], ttl=TTL)
    assert taken.status is ReservationStatus.HELD
    assert store.reservations["abandoned"].status is ReservationStatus.EXPIRED
    assert counts(store, "ALB-00001") == (1, 0, 1, 0)
    released = [fact for fact in store.announced if isinstance(fact, StockReleased)]
    assert released == [StockReleased("abandoned", (Line("ALB-00001", 1),), "expired", START + TTL)]


async def test_lapsed_holds_on_other_skus_are_settled_too(clock: ManualClock) -> None:
    """A lapsed hold on several SKUs found through one of them is let go on all of them."""
    store = stocked(ALB_00001=1, ALB_00002=1)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="old", lines=[Line("ALB-00001", 1), Line("ALB-00002", 1)], ttl=TTL)
    clock.advance(hours=1)
    [level] = await warehouse.levels(["ALB-00002"])
    assert level.available == 1
    assert counts(store, "ALB-00001") == counts(store, "ALB-00002") == (1, 1, 0, 0)
    assert store.reservations["old"].status is ReservationStatus.EXPIRED
    await warehouse.levels(["ALB-00001"])
    assert [type(fact) for fact in store.announced] == [StockReserved, StockReleased]


async def test_a_refused_dispatch_still_settles_the_lapse_it_found(clock: ManualClock) -> None:
    """Dispatching a lapsed hold is refused, but what it found (the expiry) is saved before the refusal."""
    store = stocked(ALB_00001=2)
    warehouse = store.warehouse(clock, joined=True)  # in a handled message's transaction, which commits it
    await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL)
    clock.advance(minutes=20)
    with pytest.raises(ReservationExpiredError):
        await warehouse.dispatch("o-1")
    assert store.reservations["o-1"].status is ReservationStatus.EXPIRED
    assert counts(store, "ALB-00001") == (2, 2, 0, 0)
    assert not any(isinstance(fact, OrderDispatched) for fact in store.announced)


async def test_a_refused_dispatch_in_a_transaction_of_its_own_changes_nothing(clock: ManualClock) -> None:
    """Refused in a request's own transaction, the dispatch is undone whole: the lapse is left for the next look."""
    store = stocked(ALB_00001=2)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL)
    clock.advance(minutes=20)
    with pytest.raises(ReservationExpiredError):
        await warehouse.dispatch("o-1")
    assert store.reservations["o-1"].status is ReservationStatus.HELD
    assert counts(store, "ALB-00001") == (2, 0, 2, 0)
    assert [type(fact) for fact in store.announced] == [StockReserved]


async def test_picking_keeps_the_order_past_its_time(clock: ManualClock) -> None:
    """An order picked before its hold lapsed is dispatched after it, and is never expired by a read."""
    store = stocked(ALB_00001=2)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL)
    await warehouse.pick("o-1")
    clock.advance(days=1)
    await warehouse.levels(["ALB-00001"])
    assert not any(isinstance(fact, StockReleased) for fact in store.announced)
    dispatched = await warehouse.dispatch("o-1")
    assert dispatched.status is ReservationStatus.DISPATCHED
    assert counts(store, "ALB-00001") == (2, 0, 0, 2)


async def test_reading_a_reservation_lets_a_lapsed_hold_go(clock: ManualClock) -> None:
    """Reading an order's reservation after its time expires it (stock back) and returns it as expired."""
    store = stocked(ALB_00001=2)
    warehouse = store.warehouse(clock)
    await warehouse.reserve(order_id="o-1", lines=[Line("ALB-00001", 2)], ttl=TTL)
    assert (await warehouse.reservation("o-1")).status is ReservationStatus.HELD
    clock.advance(minutes=15)
    assert store.reservations["o-1"].status is ReservationStatus.HELD  # lapsed, and not let go yet
    assert (await warehouse.reservation("o-1")).status is ReservationStatus.EXPIRED
    assert store.reservations["o-1"].status is ReservationStatus.EXPIRED
    assert counts(store, "ALB-00001") == (2, 2, 0, 0)


@pytest.mark.parametrize("action", ["release", "pick", "dispatch", "reservation"])
async def test_an_unknown_order_has_no_reservation(clock: ManualClock, action: str) -> None:
    """Every use case on an order never reserved says so, naming the order."""
    warehouse = stocked(ALB_00001=1).warehouse(clock)
    with pytest.raises(ReservationNotFoundError, match="nope"):
        await getattr(warehouse, action)("nope")


async def test_levels_come_in_the_order_asked(clock: ManualClock) -> None:
    """Reads answer each SKU once, in the order asked; a SKU never received has none of anything."""
    warehouse = stocked(ALB_00001=1, ALB_00002=2).warehouse(clock)
    levels = await warehouse.levels(["ALB-00002", "NEW-00001", "ALB-00001", "ALB-00002"])
    assert [(s.sku, s.available) for s in levels] == [("ALB-00002", 2), ("NEW-00001", 0), ("ALB-00001", 1)]
