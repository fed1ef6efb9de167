from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payment_provider.domain import (
    CardNumber,
    Charge,
    ChargeNotRefundableError,
    ChargeRequest,
    ChargeStatus,
    IdempotencyKeyReusedError,
    RefundExceedsChargeError,
    check_refund_replay,
)

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DECLINED = {"4000000000000002": "card_declined"}


def request(*, card: str = "4242424242424242", amount_minor: int = 1299, reference: str = "o-1") -> ChargeRequest:
    return ChargeRequest(amount_minor=amount_minor, currency="GBP", card=CardNumber(card), reference=reference)


def charge(asked: ChargeRequest | None = None) -> Charge:
    return Charge.decide(
        charge_id="ch_1", idempotency_key="k-1", request=asked or request(), declined_cards=DECLINED, at=AT
    )


def test_a_good_card_is_charged_and_only_its_last_four_digits_are_kept() -> None:
    """A card not configured to decline is charged; the charge keeps the last four digits, not the number."""
    made = charge()
    assert made.status is ChargeStatus.SUCCEEDED
    assert made.decline_code is None
    assert made.card_last4 == "4242"
    assert "4242424242424242" not in repr(made)


def test_a_card_configured_to_decline_is_declined_with_its_code() -> None:
    """A card in the declined list gets a declined charge carrying the configured code."""
    made = charge(request(card="4000000000000002"))
    assert (made.status, made.decline_code) == (ChargeStatus.DECLINED, "card_declined")


def test_a_replay_of_the_same_request_is_accepted() -> None:
    """The same request again under the same key is a replay, not an error."""
    charge().check_replay(request())


@pytest.mark.parametrize("other", [request(amount_minor=1), request(reference="o-2"), request(card="5555555555554444")])
def test_a_key_reused_for_another_request_is_refused(other: ChargeRequest) -> None:
    """A different amount, reference or card under a used key is a client's bug, and is refused."""
    with pytest.raises(IdempotencyKeyReusedError):
        charge().check_replay(other)


def test_refunds_give_back_at_most_what_was_taken() -> None:
    """Partial refunds add up; one that would give back more than is left is refused."""
    made = charge()
    made.refund(refund_id="re_1", idempotency_key="r-1", amount_minor=1000, at=AT)
    with pytest.raises(RefundExceedsChargeError):
        made.refund(refund_id="re_2", idempotency_key="r-2", amount_minor=300, at=AT)
    last = made.refund(refund_id="re_3", idempotency_key="r-3", amount_minor=None, at=AT)
    assert last.amount_minor == 299
    assert made.refunded_minor == 1299
    with pytest.raises(RefundExceedsChargeError):
        made.refund(refund_id="re_4", idempotency_key="r-4", amount_minor=None, at=AT)


def test_a_declined_charge_cannot_be_refunded() -> None:
    """A declined charge took nothing, so a refund of it is refused."""
    with pytest.raises(ChargeNotRefundableError):
        charge(request(card="4000000000000002")).refund(refund_id="re_1", idempotency_key="r", amount_minor=None, at=AT)


def test_a_refund_key_reused_for_another_charge_or_amount_is_refused() -> None:
    """A refund's key replays that refund only: same charge, same or no amount."""
    refund = charge().refund(refund_id="re_1", idempotency_key="r-1", amount_minor=500, at=AT)
    check_refund_replay(refund, charge_id="ch_1", amount_minor=None)
    check_refund_replay(refund, charge_id="ch_1", amount_minor=500)
    for charge_id, amount in (("ch_2", None), ("ch_1", 400)):
        with pytest.raises(IdempotencyKeyReusedError):
            check_refund_replay(refund, charge_id=charge_id, amount_minor=amount)
