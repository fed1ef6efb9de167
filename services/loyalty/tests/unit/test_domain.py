from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.domain import (
    EntryKind,
    InvalidAmountError,
    LedgerInconsistentError,
    Money,
    OrderEntries,
    PointsAccount,
    points_for,
)

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount_minor", "points"), [(0, 0), (99, 0), (100, 1), (199, 1), (1299, 12), (10**12, 10**10)]
)
def test_a_point_per_whole_currency_unit_rounded_down(amount_minor: int, points: int) -> None:
    """Points are the amount's minor units divided by 100, rounded down; nothing is earned for pennies."""
    assert points_for(Money(amount_minor, "GBP")) == points


@pytest.mark.parametrize(("amount_minor", "currency"), [(-1, "GBP"), (100, "gbp"), (100, "POUND"), (100, "")])
def test_an_amount_must_be_money(amount_minor: int, currency: str) -> None:
    """A negative amount or a currency that is not an ISO 4217 code is refused."""
    with pytest.raises(InvalidAmountError):
        Money(amount_minor, currency)


def test_an_award_records_an_entry_and_raises_the_balance() -> None:
    """The entry is numbered, carries the points, the new balance and the amount it was reckoned from."""
    ann = PointsAccount("acc_ann", balance=5, entries=2)
    order = ann.award(OrderEntries("o-1"), Money(1299, "GBP"), at=AT)
    assert order.award is not None and order.revoke is None
    assert (order.award.number, order.award.kind, order.award.points, order.award.balance_after) == (
        3,
        EntryKind.AWARD,
        12,
        17,
    )
    assert order.award.amount == Money(1299, "GBP")
    assert (ann.balance, ann.entries, ann.recorded) == (17, 3, [order.award])


def test_an_order_is_awarded_once() -> None:
    """Awarding an order that holds an award records nothing and answers with the first award."""
    ann = PointsAccount("acc_ann")
    first = ann.award(OrderEntries("o-1"), Money(1000, "GBP"), at=AT)
    again = ann.award(first, Money(5000, "GBP"), at=AT)
    assert again == first
    assert (ann.balance, len(ann.recorded)) == (10, 1)


def test_a_revocation_takes_back_what_the_award_gave_once() -> None:
    """Revoking takes back exactly the order's points; revoking again changes nothing."""
    ann = PointsAccount("acc_ann")
    awarded = ann.award(OrderEntries("o-1"), Money(1000, "GBP"), at=AT)
    ann.award(OrderEntries("o-2"), Money(500, "GBP"), at=AT)
    revoked = ann.revoke(awarded, at=AT)
    assert revoked.revoke is not None and revoked.revoke.points == 10
    assert ann.revoke(revoked, at=AT) == revoked
    assert (ann.balance, [e.kind for e in ann.recorded]) == (5, [EntryKind.AWARD, EntryKind.AWARD, EntryKind.REVOKE])


def test_a_revocation_before_its_award_is_recorded_and_stops_the_award() -> None:
    """Revoking a never-awarded order records a zero entry; the award that arrives later adds nothing."""
    ann = PointsAccount("acc_ann")
    revoked = ann.revoke(OrderEntries("o-1"), at=AT)
    assert revoked.revoke is not None and revoked.revoke.points == 0 and revoked.award is None
    late = ann.award(revoked, Money(1000, "GBP"), at=AT)
    assert late == revoked
    assert (ann.balance, len(ann.recorded)) == (0, 1)


def test_a_ledger_that_contradicts_itself_is_not_made_worse() -> None:
    """If the stored balance is below an order's award (a hand edit), revoking refuses rather than go negative."""
    ann = PointsAccount("acc_ann")
    awarded = ann.award(OrderEntries("o-1"), Money(1000, "GBP"), at=AT)
    tampered = PointsAccount("acc_ann", balance=3, entries=1)
    with pytest.raises(LedgerInconsistentError):
        tampered.revoke(awarded, at=AT)
    assert (tampered.balance, tampered.recorded) == (3, [])


@dataclass(frozen=True)
class Sent:
    kind: str  # "award" or "revoke"
    order: int


AMOUNTS = {order: 150 * order + 99 for order in range(5)}  # each order has one amount, as in the shop
commands = st.lists(st.builds(Sent, st.sampled_from(["award", "revoke"]), st.integers(0, 4)), max_size=30)


@given(sent=commands)
def test_any_order_and_repetition_of_commands_ends_in_the_same_balance(sent: list[Sent]) -> None:
    """However commands are repeated or reordered, the balance ends as the points of orders awarded and never
    revoked, never dips below zero, and each order has at most one award and one revocation entry."""
    ann = PointsAccount("acc_ann")
    orders: dict[int, OrderEntries] = {}
    for command in sent:
        order = orders.get(command.order, OrderEntries(f"o-{command.order}"))
        if command.kind == "award":
            orders[command.order] = ann.award(order, Money(AMOUNTS[command.order], "GBP"), at=AT)
        else:
            orders[command.order] = ann.revoke(order, at=AT)
        assert ann.balance >= 0
    awarded_not_revoked = {c.order for c in sent if c.kind == "award"} - {c.order for c in sent if c.kind == "revoke"}
    assert ann.balance == sum(points_for(Money(AMOUNTS[o], "GBP")) for o in awarded_not_revoked)
    assert len({(e.order_id, e.kind) for e in ann.recorded}) == len(ann.recorded)
    running = 0
    for number, entry in enumerate(ann.recorded, start=1):
        running += entry.points if entry.kind is EntryKind.AWARD else -entry.points
        assert (entry.number, entry.balance_after) == (number, running)
