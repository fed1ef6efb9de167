from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from warehouse.domain import (
    AlreadyDispatchedError,
    InvalidQuantityError,
    InvalidReservationError,
    Line,
    OrderDispatched,
    OrderPicked,
    OutOfStockError,
    Reservation,
    ReservationExpiredError,
    ReservationReleasedError,
    ReservationStatus,
    Shortage,
    Stock,
    StockAccountingError,
    StockReceived,
    StockReleased,
    StockReserved,
)

from .fakes import START

TTL = timedelta(minutes=15)


def shelf(**quantities: int) -> dict[str, Stock]:
    return {
        name.replace("_", "-"): Stock(name.replace("_", "-"), received=q, available=q) for name, q in quantities.items()
    }


def counts(stock: Stock) -> tuple[int, int, int, int]:
    return stock.received, stock.available, stock.reserved, stock.dispatched


def reserve(stock: dict[str, Stock], *lines: Line, order_id: str = "o-1") -> Reservation:
    return Reservation.place(order_id=order_id, lines=lines, stock=stock, now=START, ttl=TTL)


def test_receiving_puts_units_on_the_shelf_and_records_it() -> None:
    """A delivery adds to what was received and to what is available, and records StockReceived."""
    stock = Stock("ALB-00001")
    receipt = stock.receive(5, receipt_id="r-1", at=START)
    assert counts(stock) == (5, 5, 0, 0)
    assert receipt.quantity == 5 and receipt.sku == "ALB-00001"
    assert stock.events == [StockReceived("ALB-00001", 5, "r-1", START)]


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_a_quantity_is_a_whole_number_above_zero(quantity: Any) -> None:  # Any: what the types forbid
    """Nothing, negative, boolean and fractional quantities are refused, for deliveries and for lines."""
    stock = Stock("ALB-00001")
    with pytest.raises(InvalidQuantityError):
        stock.receive(quantity, receipt_id="r-1", at=START)
    with pytest.raises(InvalidQuantityError):
        Line("ALB-00001", quantity)
    assert counts(stock) == (0, 0, 0, 0) and stock.events == []


def test_stock_that_does_not_add_up_is_refused() -> None:
    """A record whose counts go below zero or do not add up to what was received cannot exist."""
    with pytest.raises(StockAccountingError):
        Stock("ALB-00001", received=3, available=2, reserved=2)
    with pytest.raises(StockAccountingError):
        Stock("ALB-00001", received=0, available=-1, reserved=1)
    stock = Stock("ALB-00001", received=1, available=1)
    with pytest.raises(StockAccountingError):
        stock.hold(2)
    assert counts(stock) == (1, 1, 0, 0)


def test_a_reservation_holds_every_line() -> None:
    """Placing a reservation moves each line's units from available to reserved and records StockReserved."""
    stock = shelf(ALB_00001=3, ALB_00002=1)
    reservation = reserve(stock, Line("ALB-00002", 1), Line("ALB-00001", 2))
    assert counts(stock["ALB-00001"]) == (3, 1, 2, 0)
    assert counts(stock["ALB-00002"]) == (1, 0, 1, 0)
    assert reservation.status is ReservationStatus.HELD
    assert reservation.lines == (Line("ALB-00001", 2), Line("ALB-00002", 1))  # in SKU order
    assert reservation.expires_at == START + TTL
    assert reservation.events == [StockReserved("o-1", reservation.lines, START + TTL, START)]


def test_out_of_stock_names_every_short_sku_and_reserves_nothing() -> None:
    """All or nothing: one short line refuses the order, naming each short SKU and by how much."""
    stock = shelf(ALB_00001=3, ALB_00002=1, ALB_00003=0)
    with pytest.raises(OutOfStockError) as refused:
        reserve(stock, Line("ALB-00001", 2), Line("ALB-00002", 2), Line("ALB-00003", 1))
    assert refused.value.shortages == (Shortage("ALB-00002", 2, 1), Shortage("ALB-00003", 1, 0))
    assert "ALB-00002 is short by 1 (2 asked, 1 available)" in str(refused.value)
    assert "ALB-00003 is short by 1" in str(refused.value)
    assert [counts(s) for s in stock.values()] == [(3, 3, 0, 0), (1, 1, 0, 0), (0, 0, 0, 0)]


@pytest.mark.parametrize(
    ("lines", "ttl", "message"),
    [
        ((), TTL, "at least one line"),
        ((Line("ALB-00001", 1), Line("ALB-00001", 1)), TTL, "repeated: ALB-00001"),
        ((Line("ALB-00001", 1),), timedelta(0), "held for some time"),
    ],
)
def test_a_reservation_must_make_sense(lines: tuple[Line, ...], ttl: timedelta, message: str) -> None:
    """No lines, a SKU on two lines, or no time to hold it, is refused before anything is held."""
    stock = shelf(ALB_00001=5)
    with pytest.raises(InvalidReservationError, match=message):
        Reservation.place(order_id="o-1", lines=lines, stock=stock, now=START, ttl=ttl)
    assert counts(stock["ALB-00001"]) == (5, 5, 0, 0)


def test_releasing_puts_the_units_back_once() -> None:
    """A release returns every line's units to the shelf and records it; releasing again does nothing."""
    stock = shelf(ALB_00001=3)
    reservation = reserve(stock, Line("ALB-00001", 2))
    reservation.events.clear()
    reservation.release(stock, now=START + timedelta(minutes=1))
    reservation.release(stock, now=START + timedelta(minutes=2))
    assert counts(stock["ALB-00001"]) == (3, 3, 0, 0)
    assert reservation.status is ReservationStatus.RELEASED
    assert reservation.events == [StockReleased("o-1", reservation.lines, "released", START + timedelta(minutes=1))]


def test_a_hold_lapses_at_its_time_and_expires_as_of_then() -> None:
    """At exactly expires_at the hold has lapsed; expiring it later still dates the release at expires_at."""
    stock = shelf(ALB_00001=1)
    reservation = reserve(stock, Line("ALB-00001", 1))
    reservation.events.clear()
    assert not reservation.is_lapsed(START + TTL - timedelta(microseconds=1))
    assert reservation.is_lapsed(START + TTL)
    assert reservation.expire_if_lapsed(stock, now=START + TTL + timedelta(hours=3))
    assert not reservation.expire_if_lapsed(stock, now=START + TTL + timedelta(hours=4))
    assert counts(stock["ALB-00001"]) == (1, 1, 0, 0)
    assert (reservation.status, reservation.released_at) == (ReservationStatus.EXPIRED, START + TTL)
    assert reservation.events == [StockReleased("o-1", reservation.lines, "expired", START + TTL)]


def test_releasing_a_lapsed_hold_is_its_expiry() -> None:
    """A release after the hold lapsed records the expiry (once), not a second kind of release."""
    stock = shelf(ALB_00001=1)
    reservation = reserve(stock, Line("ALB-00001", 1))
    reservation.events.clear()
    reservation.release(stock, now=START + TTL)
    assert reservation.status is ReservationStatus.EXPIRED
    assert [e.reason for e in reservation.events if isinstance(e, StockReleased)] == ["expired"]


def test_a_lapsed_hold_cannot_be_picked_or_dispatched() -> None:
    """Past its time and unpicked, the order's units are no longer its own: pick and dispatch are refused."""
    stock = shelf(ALB_00001=1)
    reservation = reserve(stock, Line("ALB-00001", 1))
    with pytest.raises(ReservationExpiredError, match=r"expired at .* before it was picked"):
        reservation.dispatch(stock, now=START + TTL)
    with pytest.raises(ReservationExpiredError):
        reservation.pick(now=START + TTL)
    assert reservation.status is ReservationStatus.HELD
    assert counts(stock["ALB-00001"]) == (1, 0, 1, 0)  # refused: nothing changed


def test_a_picked_order_is_dispatched_after_its_time() -> None:
    """Picking stops the clock: the units are off the shelf, and dispatch goes ahead after the TTL."""
    stock = shelf(ALB_00001=2)
    reservation = reserve(stock, Line("ALB-00001", 2))
    reservation.pick(now=START + timedelta(minutes=5))
    assert not reservation.is_lapsed(START + TTL * 10)
    reservation.dispatch(stock, now=START + TTL * 10)
    assert reservation.status is ReservationStatus.DISPATCHED
    assert counts(stock["ALB-00001"]) == (2, 0, 0, 2)
    assert [type(e) for e in reservation.events] == [StockReserved, OrderPicked, OrderDispatched]


def test_dispatching_twice_sends_the_units_once() -> None:
    """A repeated dispatch (or pick after it) changes nothing and records nothing."""
    stock = shelf(ALB_00001=2)
    reservation = reserve(stock, Line("ALB-00001", 1))
    reservation.dispatch(stock, now=START)
    reservation.dispatch(stock, now=START)
    reservation.pick(now=START)
    assert counts(stock["ALB-00001"]) == (2, 1, 0, 1)
    assert [type(e) for e in reservation.events] == [StockReserved, OrderDispatched]


def test_released_is_never_dispatched_and_dispatched_is_never_released() -> None:
    """Once let go the units cannot leave for the order, and once left they cannot come back as a release."""
    stock = shelf(ALB_00001=2)
    released = reserve(stock, Line("ALB-00001", 1), order_id="released")
    released.release(stock, now=START)
    with pytest.raises(ReservationReleasedError, match="was released"):
        released.dispatch(stock, now=START)
    with pytest.raises(ReservationReleasedError):
        released.pick(now=START)
    dispatched = reserve(stock, Line("ALB-00001", 1), order_id="dispatched")
    dispatched.dispatch(stock, now=START)
    with pytest.raises(AlreadyDispatchedError, match="was dispatched"):
        dispatched.release(stock, now=START + TTL)
    assert counts(stock["ALB-00001"]) == (2, 1, 0, 1)
    assert released.dispatched_at is None and dispatched.released_at is None


def test_asking_again_for_the_same_lines_is_recognised_in_any_order() -> None:
    """covers() matches the same SKUs and quantities however the lines are written, and nothing else."""
    stock = shelf(ALB_00001=3, ALB_00002=3)
    reservation = reserve(stock, Line("ALB-00001", 1), Line("ALB-00002", 2))
    assert reservation.covers([Line("ALB-00002", 2), Line("ALB-00001", 1)])
    assert not reservation.covers([Line("ALB-00001", 1)])
    assert not reservation.covers([Line("ALB-00001", 1), Line("ALB-00002", 1)])
    assert not reservation.covers([])
