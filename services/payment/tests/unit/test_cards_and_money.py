from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment.cards import CardNumber, passes_luhn
from payment.money import InvalidAmountError, Money


@pytest.mark.parametrize("number", ["4242424242424242", "4000000000000002", "5555555555554444", "378282246310005"])
def test_published_test_cards_pass_the_luhn_check(number: str) -> None:
    """Card processors' published test numbers pass the Luhn check."""
    assert CardNumber(number).passes_luhn


@given(digits=st.text(alphabet="0123456789", min_size=12, max_size=19), data=st.data())
def test_changing_one_digit_of_a_passing_number_makes_it_fail(digits: str, data: st.DataObject) -> None:
    """Any single mistyped digit of a number that passes makes it fail, which is what the check is for."""
    # Complete the digits into a passing number by choosing its last digit.
    number = next(digits[:-1] + d for d in "0123456789" if passes_luhn(digits[:-1] + d))
    position = data.draw(st.integers(0, len(number) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not passes_luhn(number[:position] + other + number[position + 1 :])


@pytest.mark.parametrize("number", ["42424242424", "42424242424242424242", "4242 4242 4242 4242", "424242424242424x"])
def test_anything_but_12_to_19_digits_fails(number: str) -> None:
    """Too few or too many digits, or anything but digits, is not a card number."""
    assert not passes_luhn(number)


def test_a_card_number_shows_its_last_four_digits_only() -> None:
    """What logs and tracebacks show of a card number (repr and str) hides all but the last four digits."""
    card = CardNumber("4242424242424242")
    assert card.last4 == "4242"
    for shown in (repr(card), str(card), f"{card}", repr([card])):
        assert "424242424242" not in shown


@pytest.mark.parametrize(("amount_minor", "currency"), [(0, "GBP"), (-5, "GBP"), (100, "gbp"), (100, "POUNDS")])
def test_money_that_cannot_be_charged_is_refused(amount_minor: int, currency: str) -> None:
    """Nothing, less than nothing, or a currency that is not an ISO 4217 code cannot be charged."""
    with pytest.raises(InvalidAmountError):
        Money(amount_minor, currency)
