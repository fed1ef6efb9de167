from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_provider.domain import CardNumber, InvalidCardNumberError, passes_luhn


def _check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check (computed the textbook way)."""
    for digit in "0123456789":
        doubled = [int(c) * (2 if i % 2 == 0 else 1) for i, c in enumerate(reversed(payload))]
        if (sum(d - 9 if d > 9 else d for d in doubled) + int(digit)) % 10 == 0:
            return digit
    raise AssertionError("some digit always completes a Luhn number")


payloads = st.text(alphabet="0123456789", min_size=11, max_size=18)


@pytest.mark.parametrize(
    "number", ["4242424242424242", "4000000000000002", "5555555555554444", "378282246310005", "6011111111111117"]
)
def test_the_published_test_cards_pass(number: str) -> None:
    """Card processors' published test numbers pass the Luhn check."""
    assert passes_luhn(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234567812345678", "42424242424", "4242-4242-4242-4242", ""])
def test_numbers_with_a_wrong_check_digit_or_shape_fail(number: str) -> None:
    """A wrong check digit, too few digits, or anything but digits is not a card number."""
    assert not passes_luhn(number)


@given(payload=payloads)
def test_a_number_completed_with_its_check_digit_passes(payload: str) -> None:
    """Any 11 to 18 digits followed by their Luhn check digit pass."""
    assert passes_luhn(payload + _check_digit(payload))


@given(payload=payloads, data=st.data())
def test_changing_any_one_digit_is_caught(payload: str, data: st.DataObject) -> None:
    """The Luhn check catches every single mistyped digit, which is what it is for."""
    number = payload + _check_digit(payload)
    position = data.draw(st.integers(0, len(number) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not passes_luhn(number[:position] + other + number[position + 1 :])


def test_a_card_number_shows_only_its_last_four_digits() -> None:
    """A card number's repr, which is what logs and tracebacks show, hides all but the last four digits."""
    card = CardNumber("4242424242424242")
    assert card.last4 == "4242"
    assert "424242424242" not in repr(card)
    assert "4242" in repr(card)


def test_a_card_number_that_fails_the_check_is_refused() -> None:
    """No CardNumber exists for a number with a wrong check digit."""
    with pytest.raises(InvalidCardNumberError):
        CardNumber("4242424242424241")
