from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notification.domain import Money, NoticeKind, OrderedItem, OrderNotice
from notification.templates import TEMPLATES, format_money, render

TOTAL = Money(2598, "GBP")


def notice(kind: NoticeKind, **changes: Any) -> OrderNotice:
    fields: dict[str, Any] = {
        "kind": kind,
        "event_id": "evt-1",
        "order_id": "ord-42",
        "customer_id": "acc_ann",
        "total": TOTAL,
    }
    return OrderNotice(**{**fields, **changes})


def test_every_kind_of_notice_has_a_template() -> None:
    """No kind of notice can reach the sender without words for it."""
    assert set(TEMPLATES) == set(NoticeKind)


def test_a_placed_order_is_confirmed_with_its_albums_and_total() -> None:
    """The confirmation names the order, lists each album with quantity and price, and gives the total."""
    items = (OrderedItem("Kind of Blue", 2, Money(999, "GBP")), OrderedItem("In Rainbows", 1, Money(600, "GBP")))
    email = render(notice(NoticeKind.ORDER_PLACED, items=items))
    assert email.subject == "We have your order ord-42"
    assert "  2 x Kind of Blue at 9.99 GBP\n  1 x In Rainbows at 6.00 GBP" in email.body
    assert "Total: 25.98 GBP" in email.body


def test_a_dispatched_order_says_it_is_on_its_way() -> None:
    """The dispatch email names the order and its total."""
    email = render(notice(NoticeKind.ORDER_DISPATCHED))
    assert email.subject == "Your order ord-42 is on its way"
    assert "Your order ord-42 (25.98 GBP) has left our warehouse" in email.body


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("out_of_stock", "some of the albums you ordered are out of stock"),
        ("payment_declined", "your card was declined"),
        ("stock_lapsed", "the albums we held for you were released before your payment went through"),
        ("a_code_order_adds_later", "something went wrong on our side"),
    ],
)
def test_a_rejection_says_why_in_words_not_codes(code: str, words: str) -> None:
    """A rejection gives the reason in words a customer understands; a code unknown here still makes an email."""
    email = render(notice(NoticeKind.ORDER_REJECTED, reason=code))
    assert email.subject == "We could not complete your order ord-42"
    assert f"because {words}" in email.body
    assert code not in email.body


def test_a_cancellation_repeats_the_reason_order_gave() -> None:
    """The cancellation email carries order's reason, and that nothing is charged."""
    email = render(notice(NoticeKind.ORDER_CANCELLED, reason="cancelled by the customer"))
    assert email.subject == "Your order ord-42 is cancelled"
    assert "is cancelled (cancelled by the customer), and you will not be charged" in email.body


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(2598, "GBP"), "25.98 GBP"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(123456789, "USD"), "1,234,567.89 USD"),
        (Money(1500, "JPY"), "1,500 JPY"),
        (Money(1234, "KWD"), "1.234 KWD"),
        (Money(-250, "GBP"), "-2.50 GBP"),
    ],
)
def test_money_is_shown_in_the_currencys_own_decimals(money: Money, shown: str) -> None:
    """Minor units become the currency's decimals (none for yen, three for dinars), never via a float."""
    assert format_money(money) == shown


any_text = st.text(max_size=80)
notices = st.builds(
    OrderNotice,
    kind=st.sampled_from(NoticeKind),
    event_id=st.just("evt-1"),
    order_id=any_text.filter(bool),
    customer_id=st.just("acc_ann"),
    total=st.builds(Money, st.integers(-(10**12), 10**12), st.sampled_from(["GBP", "JPY", "KWD", "XYZ"])),
    reason=st.none() | any_text,
    items=st.lists(st.builds(OrderedItem, any_text, st.integers(1, 99), st.just(TOTAL)), max_size=3).map(tuple),
)


@given(notice=notices)
def test_any_notice_renders_a_one_line_subject_and_the_order_id(notice: OrderNotice) -> None:
    """Whatever another service put in an event, rendering succeeds and the subject stays on one line."""
    email = render(notice)
    assert len(email.subject.splitlines()) == 1
    assert " ".join(notice.order_id.split()) in email.subject
    assert email.body.endswith("MusicCorp\n")


@given(title=st.text(min_size=1, max_size=40).map(lambda s: "$order_id " + s + " ${total}"))
def test_placeholders_inside_values_are_not_filled_in(title: str) -> None:
    """A '$name' in a value from an event is printed as written, not treated as part of the template."""
    email = render(notice(NoticeKind.ORDER_PLACED, items=(OrderedItem(title, 1, TOTAL),)))
    assert f"1 x {title} at" in email.body
