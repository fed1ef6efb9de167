from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from payment.choreography.domain import CardTerms, Choreography

from .conftest import PRICE
from .fakes import START

TERMS = CardTerms("customer-1", PRICE)
SEALED = b"sealed"


def heard() -> Choreography:
    return Choreography(order_id="o-1", heard_at=START)


def test_the_payment_is_due_once_card_and_stock_are_both_there() -> None:
    """The card, then the stock: the payment is due on the stock, and the card goes to it."""
    choreography = heard()
    assert choreography.keep_card(TERMS, SEALED, at=START) is False
    assert choreography.choreographed
    assert choreography.reserve_stock(at=START) is True
    assert choreography.hand_over_card(at=START) == (TERMS, SEALED)
    assert choreography.sealed_card is None


def test_stock_heard_before_the_card_makes_the_payment_due_when_the_card_comes() -> None:
    """The stock, then the card (they travel on different streams): the payment is due on the card."""
    choreography = heard()
    assert choreography.reserve_stock(at=START) is False
    assert not choreography.choreographed
    assert choreography.keep_card(TERMS, SEALED, at=START) is True


def test_an_order_that_never_sends_its_card_is_never_charged_nor_refunded() -> None:
    """Stock and an end for an order with no card (an orchestrated one): nothing is ever due."""
    choreography = heard()
    assert choreography.reserve_stock(at=START) is False
    assert choreography.end(at=START) is False
    assert not choreography.choreographed


def test_an_order_that_ended_before_its_card_came_keeps_no_card() -> None:
    """The end, then the card: the card is not kept at all, and stock reserved later takes nothing."""
    choreography = heard()
    choreography.end(at=START)
    assert choreography.keep_card(TERMS, SEALED, at=START) is False
    assert choreography.sealed_card is None
    assert choreography.reserve_stock(at=START) is False


def test_an_end_before_the_stock_forgets_the_card() -> None:
    """The card, the end, then the stock: the card is forgotten on the end, nothing is to be refunded or taken."""
    choreography = heard()
    choreography.keep_card(TERMS, SEALED, at=START)
    assert choreography.end(at=START) is False
    assert choreography.sealed_card is None
    assert choreography.reserve_stock(at=START) is False


def test_an_end_after_the_payment_was_asked_is_a_refund_once() -> None:
    """Once the payment was asked, the order's end asks its refund; a second end asks nothing more."""
    choreography = heard()
    choreography.keep_card(TERMS, SEALED, at=START)
    choreography.reserve_stock(at=START)
    choreography.hand_over_card(at=START)
    assert choreography.end(at=START) is True
    assert choreography.end(at=START) is False


EVENTS = st.lists(st.sampled_from(["card", "stock", "end"]), max_size=8)


@given(events=EVENTS)
def test_whatever_the_order_of_the_events_each_counts_once(events: list[str]) -> None:
    """Any order and repetition of card, stock and end: taken once iff card and stock both came before the
    end, refunded once iff taken and then ended, and no card is left once taken or ended."""
    choreography, taken, refunded = heard(), 0, 0
    for event in events:
        if event == "end":
            refunded += choreography.end(at=START)
            continue
        due = (
            choreography.keep_card(TERMS, SEALED, at=START) if event == "card" else choreography.reserve_stock(at=START)
        )
        if due:
            choreography.hand_over_card(at=START)
            taken += 1

    def first(event: str) -> float:
        return events.index(event) if event in events else float("inf")

    due_at, ended_at = max(first("card"), first("stock")), first("end")
    assert taken == (due_at < ended_at)
    assert refunded == (taken and ended_at < float("inf"))
    if taken or ended_at < float("inf"):
        assert choreography.sealed_card is None
