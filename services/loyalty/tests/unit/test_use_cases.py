from __future__ import annotations

import pytest

from loyalty.domain import EntryKind, Money
from loyalty.use_cases import PointsBook

from .fakes import Announced, FakeLedger, ManualClock

GBP_12_99 = Money(1299, "GBP")


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def announced() -> Announced:
    return Announced()


@pytest.fixture
def book(ledger: FakeLedger, announced: Announced) -> PointsBook:
    return PointsBook(ledger, announce=announced, clock=ManualClock())


async def test_an_award_is_kept_and_announced(book: PointsBook, ledger: FakeLedger, announced: Announced) -> None:
    """The award's entry is stored, the balance raised, and the order's standing announced once."""
    order = await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    assert ledger.balances == {"acc_ann": 12}
    assert ledger.entries["acc_ann"] == [order.award]
    assert announced.orders == [order]


async def test_the_same_award_twice_counts_once_and_is_answered_alike(
    book: PointsBook, ledger: FakeLedger, announced: Announced
) -> None:
    """A repeated AwardPoints (a new message for the same order) stores and announces nothing new."""
    first = await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    again = await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    assert again == first
    assert ledger.balances == {"acc_ann": 12}
    assert announced.orders == [first]


async def test_revoking_a_never_awarded_order_is_recorded_and_blocks_its_award(
    book: PointsBook, ledger: FakeLedger, announced: Announced
) -> None:
    """The revocation that came first is stored (zero points) and announced; the late award adds nothing."""
    revoked = await book.revoke(order_id="o-1", customer_id="acc_ann")
    late = await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    assert late == revoked
    assert [e.kind for e in ledger.entries["acc_ann"]] == [EntryKind.REVOKE]
    assert ledger.balances == {"acc_ann": 0}
    assert announced.orders == [revoked]


async def test_award_then_revoke_returns_the_points(book: PointsBook, ledger: FakeLedger, announced: Announced) -> None:
    """A refund takes back exactly the order's points, leaving other orders' points alone."""
    await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    await book.award(order_id="o-2", customer_id="acc_ann", amount=Money(500, "GBP"))
    revoked = await book.revoke(order_id="o-1", customer_id="acc_ann")
    assert revoked.revoke is not None and revoked.revoke.points == 12
    assert ledger.balances == {"acc_ann": 5}
    assert [o.order_id for o in announced.orders] == ["o-1", "o-2", "o-1"]


async def test_customers_have_separate_ledgers(book: PointsBook, ledger: FakeLedger) -> None:
    """The same order id under two customers is two orders: one customer's revocation leaves the other's award."""
    await book.award(order_id="o-1", customer_id="acc_ann", amount=GBP_12_99)
    await book.revoke(order_id="o-1", customer_id="acc_bob")
    assert ledger.balances == {"acc_ann": 12, "acc_bob": 0}
