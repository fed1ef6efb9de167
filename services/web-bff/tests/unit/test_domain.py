from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web_bff.domain import (
    Album,
    Availability,
    BasketLine,
    MixedCurrenciesError,
    Money,
    availability_of,
    can_cancel,
    is_card_number,
    price_basket,
    progress_of,
    status_label,
)

BLUE_TRAIN = Album("ALB-00001", "Blue Train", "John Coltrane", Money(1299, "GBP"))
KIND_OF_BLUE = Album("ALB-00002", "Kind of Blue", "Miles Davis", Money(999, "GBP"))


@pytest.mark.parametrize(
    ("available", "availability"),
    [
        (None, Availability.UNKNOWN),
        (-1, Availability.OUT_OF_STOCK),
        (0, Availability.OUT_OF_STOCK),
        (1, Availability.LOW_STOCK),
        (4, Availability.LOW_STOCK),
        (5, Availability.IN_STOCK),
    ],
)
def test_a_stock_level_reads_as_availability(available: int | None, availability: Availability) -> None:
    """None (no answer) is unknown, nothing is out of stock, under five is low, five and more in stock."""
    assert availability_of(available) is availability


def test_a_basket_is_priced_line_by_line_and_totalled() -> None:
    """Each line is its album's price times its quantity; the total is their sum in their currency."""
    basket = price_basket(
        [BasketLine("ALB-00001", 2), BasketLine("ALB-00002", 1)], {a.sku: a for a in (BLUE_TRAIN, KIND_OF_BLUE)}
    )
    assert [(line.album.sku, line.total) for line in basket.lines] == [
        ("ALB-00001", Money(2598, "GBP")),
        ("ALB-00002", Money(999, "GBP")),
    ]
    assert basket.total == Money(3597, "GBP")
    assert basket.unknown_skus == ()


def test_lines_without_an_album_are_unknown_and_not_totalled() -> None:
    """A SKU the catalog did not give is listed apart; with nothing priced there is no total."""
    basket = price_basket([BasketLine("ALB-00001", 1), BasketLine("GONE-1", 3)], {BLUE_TRAIN.sku: BLUE_TRAIN})
    assert (basket.unknown_skus, basket.total) == (("GONE-1",), Money(1299, "GBP"))
    assert price_basket([BasketLine("GONE-1", 1)], {}).total is None


def test_two_currencies_have_no_total() -> None:
    """Albums priced in two currencies are refused, not added up."""
    euros = Album("ALB-00003", "Mingus Ah Um", "Charles Mingus", Money(1099, "EUR"))
    with pytest.raises(MixedCurrenciesError, match="EUR, GBP"):
        price_basket([BasketLine("ALB-00001", 1), BasketLine("ALB-00003", 1)], {a.sku: a for a in (BLUE_TRAIN, euros)})


@given(quantities=st.lists(st.integers(1, 99), min_size=1, max_size=50))
def test_the_total_is_the_sum_of_the_lines(quantities: list[int]) -> None:
    """However many lines of whatever quantities, the total is exactly the sum of the lines' totals."""
    albums = {f"SKU-{i:03}": Album(f"SKU-{i:03}", "t", "a", Money(100 + i, "GBP")) for i in range(len(quantities))}
    basket = price_basket([BasketLine(sku, q) for sku, q in zip(albums, quantities, strict=True)], albums)
    assert basket.total == Money(sum((100 + i) * q for i, q in enumerate(quantities)), "GBP")


def test_progress_marks_every_step_up_to_the_furthest_reached() -> None:
    """A step is reached if the order was in it or in a later one, even if the history skipped it."""
    reached = [step.reached for step in progress_of("paid", ["placed"])]
    assert reached == [True, True, True, False]
    assert [step.reached for step in progress_of("dispatched", [])] == [True, True, True, True]


def test_an_ended_order_keeps_the_steps_it_went_through() -> None:
    """A rejected order shows how far it got before it was rejected."""
    steps = progress_of("rejected", ["placed", "stock_reserved", "rejected"])
    assert [(step.label, step.reached) for step in steps] == [
        ("Order placed", True),
        ("Stock reserved", True),
        ("Payment taken", False),
        ("Dispatched", False),
    ]


def test_statuses_read_as_labels_and_unknown_ones_still_read() -> None:
    """Known statuses have their label; a status order adds later is shown in words rather than failing."""
    assert (status_label("stock_reserved"), status_label("on_hold_for_review")) == (
        "Stock reserved",
        "On hold for review",
    )


def test_an_order_can_be_cancelled_until_it_is_paid() -> None:
    """Cancelling is offered while order still cancels: before the payment is taken."""
    assert [can_cancel(s) for s in ("placed", "stock_reserved", "paid", "dispatched", "cancelled")] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize("number", ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117"])
def test_card_numbers_pass_the_luhn_check(number: str) -> None:
    """The card networks' test numbers are card numbers."""
    assert is_card_number(number)


@pytest.mark.parametrize(
    "number", ["4242424242424241", "42424242424", "4" * 20, "4242 4242 4242 4242", "４２４２４２４２４２４２４２４２"]
)
def test_mistyped_card_numbers_do_not(number: str) -> None:
    """A wrong check digit, too few or too many digits, spaces or non-ASCII digits are not card numbers."""
    assert not is_card_number(number)


@given(digits=st.from_regex(r"[0-9]{11,18}", fullmatch=True))
def test_exactly_one_check_digit_completes_a_number(digits: str) -> None:
    """Of the ten digits that could end a number, exactly one makes it pass: one slip is always caught."""
    assert sum(is_card_number(digits + str(last)) for last in range(10)) == 1
