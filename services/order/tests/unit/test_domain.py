from __future__ import annotations

import pytest

from order.domain import (
    MAX_LINES,
    CardNumber,
    DuplicateSkuError,
    EmptyOrderError,
    IdempotencyKeyReusedError,
    InvalidCardNumberError,
    InvalidQuantityError,
    MixedCurrenciesError,
    Money,
    OrderRequest,
    Placement,
    RequestedLine,
    TooManyLinesError,
    passes_luhn,
)

from .fakes import VISA, keyed_hash


def request(*lines: tuple[str, int], address: str = "adr_home", card: CardNumber = VISA) -> OrderRequest:
    return OrderRequest(
        customer_id="acc_ann",
        idempotency_key="key-1",
        lines=tuple(RequestedLine(sku, quantity) for sku, quantity in lines),
        delivery_address_id=address,
        card=card,
    )


def test_a_request_needs_a_line() -> None:
    """An order of nothing is refused."""
    with pytest.raises(EmptyOrderError):
        request()


def test_a_request_has_at_most_fifty_lines() -> None:
    """Fifty lines are fine; the fifty-first is refused."""
    skus = [f"ALB-{n:05d}" for n in range(MAX_LINES + 1)]
    assert len(request(*((sku, 1) for sku in skus[:MAX_LINES])).lines) == MAX_LINES
    with pytest.raises(TooManyLinesError):
        request(*((sku, 1) for sku in skus))


def test_a_sku_goes_on_one_line() -> None:
    """Two lines of one SKU are refused, naming it."""
    with pytest.raises(DuplicateSkuError, match="ALB-00001"):
        request(("ALB-00001", 1), ("ALB-00002", 1), ("ALB-00001", 2))


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_a_quantity_is_one_to_ninety_nine(quantity: int) -> None:
    """Nothing, less than nothing, or more than a shop sells at once is refused."""
    with pytest.raises(InvalidQuantityError):
        request(("ALB-00001", quantity))


@pytest.mark.parametrize("digits", ["4242424242424242", "5555555555554444", "378282246310005", "4000056655665556"])
def test_real_test_card_numbers_pass_the_luhn_check(digits: str) -> None:
    """The card networks' published test numbers are card numbers."""
    assert passes_luhn(digits)


@pytest.mark.parametrize("digits", ["4242424242424241", "42424242424", "4242 4242 4242 4242", "", "x" * 16])
def test_anything_else_is_not_a_card_number(digits: str) -> None:
    """A wrong check digit, too few digits, spaces or letters are refused, and the error does not repeat them."""
    with pytest.raises(InvalidCardNumberError) as refused:
        CardNumber(digits)
    assert not digits or digits not in str(refused.value)


def test_a_card_number_shows_only_its_last_four_digits() -> None:
    """Printed or logged, a card number is its last four digits."""
    assert repr(VISA) == str(VISA) == "CardNumber(****4242)"
    assert VISA.last4 == "4242"


def test_a_retry_has_the_fingerprint_of_the_first_request_whatever_the_order_of_its_lines() -> None:
    """The same lines in another order, the same address and card make the same request."""
    first = request(("ALB-00001", 1), ("ALB-00002", 2)).fingerprint(keyed_hash)
    again = request(("ALB-00002", 2), ("ALB-00001", 1)).fingerprint(keyed_hash)
    Placement("key-1", first).check_replay(again)


@pytest.mark.parametrize(
    "other",
    [
        request(("ALB-00001", 2)),
        request(("ALB-00002", 1)),
        request(("ALB-00001", 1), address="adr_work"),
        request(("ALB-00001", 1), card=CardNumber("5555555555554444")),
    ],
)
def test_another_request_under_the_same_key_is_refused(other: OrderRequest) -> None:
    """Another quantity, album, address or card under a key already used is not a retry."""
    placement = Placement("key-1", request(("ALB-00001", 1)).fingerprint(keyed_hash))
    with pytest.raises(IdempotencyKeyReusedError, match="key-1"):
        placement.check_replay(other.fingerprint(keyed_hash))


def test_money_adds_up_in_one_currency_only() -> None:
    """Pence add to pence; pence and cents do not add."""
    assert Money(1299, "GBP").times(2) + Money(999, "GBP") == Money(3597, "GBP")
    with pytest.raises(MixedCurrenciesError):
        Money(1299, "GBP") + Money(999, "EUR")
