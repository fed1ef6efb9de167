from __future__ import annotations

import pytest
from paved import Envelope
from paved.messaging import MessageTypes, UnacceptableMessage

from loyalty.partners import FulfilmentRequested, PaymentRefunded, PaymentTaken

ACCEPTED = MessageTypes(FulfilmentRequested, PaymentTaken, PaymentRefunded)

# Each event as its owner publishes it: every field, loyalty's or not.
FULFILMENT_REQUESTED = {
    "order_id": "ord_1",
    "customer_id": "acc_ann",
    "lines": [{"sku": "ALB-00001", "quantity": 2}],
    "total": {"amount_minor": 2598, "currency": "GBP"},
    "requested_at": "2026-12-01T09:00:00Z",
}
PAYMENT_TAKEN = {
    "order_id": "ord_1",
    "customer_id": "acc_ann",
    "amount_minor": 2598,
    "currency": "GBP",
    "charge_id": "ch_1",
    "card_last4": "4242",
    "taken_at": "2026-12-01T09:00:02Z",
}


def parse(message_type: str, data: dict[str, object]) -> object:
    return ACCEPTED.parse(Envelope(type=message_type, correlation_id=str(data.get("order_id")), data=data))


def test_fulfilment_requested_is_read_as_order_publishes_it() -> None:
    """Order's whole event is accepted; loyalty keeps whose order it is, its total and when, and ignores the lines."""
    event = parse("order.FulfilmentRequested", FULFILMENT_REQUESTED | {"a_field_order_adds_later": 1})
    assert isinstance(event, FulfilmentRequested)
    assert (event.order_id, event.customer_id, event.total.amount_minor, event.total.currency) == (
        "ord_1",
        "acc_ann",
        2598,
        "GBP",
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"customer_id": None}, "customer_id"),
        ({"customer_id": "acc ann\n"}, "customer_id"),
        ({"total": {"amount_minor": "2598", "currency": "GBP"}}, "amount_minor"),
        ({"total": {"amount_minor": -1, "currency": "GBP"}}, "amount_minor"),
        ({"total": {"amount_minor": 2598, "currency": "pounds"}}, "currency"),
        ({"requested_at": "2026-12-01T09:00:00"}, "requested_at"),
    ],
)
def test_an_order_loyalty_could_not_award_is_refused_with_the_reason(change: dict[str, object], named: str) -> None:
    """A FulfilmentRequested whose customer or total AwardPoints would refuse is unacceptable (parked), naming it."""
    with pytest.raises(UnacceptableMessage, match=named):
        parse("order.FulfilmentRequested", FULFILMENT_REQUESTED | change)


@pytest.mark.parametrize("message_type", ["payment.PaymentTaken", "payment.PaymentRefunded"])
def test_payment_events_are_read_for_whose_order_they_are_whatever_their_ids(message_type: str) -> None:
    """Payment's events are taken with any ids payment allows: an orchestrated order's must be ignored, never parked."""
    data = PAYMENT_TAKEN | {"customer_id": "customer with spaces, not loyalty's pattern", "refund_id": "rf_1"}
    event = parse(message_type, data)
    assert isinstance(event, PaymentTaken | PaymentRefunded)
    assert (event.order_id, event.customer_id) == ("ord_1", data["customer_id"])
