from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from paved import Envelope
from paved.messaging import MessageTypes, UnacceptableMessage

from payment.contract import KeepCard, RefundPayment, TakePayment
from payment.partners import OrderCancelled, OrderRejected, StockReserved

CARD = "4242424242424242"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | st.just(CARD),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
take_like = st.fixed_dictionaries(
    {"card_number": st.just(CARD) | json_values},
    optional={
        "order_id": json_values | st.from_regex(r"o-[0-9]{1,5}", fullmatch=True),
        "customer_id": json_values,
        "amount_minor": json_values | st.integers(-10, 10**9),
        "currency": json_values | st.from_regex(r"[A-Z]{3}", fullmatch=True),
    },
)


@given(data=take_like | st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_a_command_that_does_not_parse_is_refused_without_quoting_the_card(data: dict[str, object]) -> None:
    """Whatever a TakePayment's data, it parses or is refused with a reason (parked, logged) without the card number."""
    envelope = Envelope.new(TakePayment.message_type, data)
    try:
        command = MessageTypes(TakePayment, RefundPayment).parse(envelope)
    except UnacceptableMessage as refused:
        assert CARD not in str(refused)
    else:
        assert isinstance(command, TakePayment)
        assert CARD not in repr(command)


def test_a_valid_take_payment_parses() -> None:
    """A TakePayment as the order service sends it parses into the command."""
    data = {"order_id": "o-1", "customer_id": "c-1", "amount_minor": 1299, "currency": "GBP", "card_number": CARD}
    command = MessageTypes(TakePayment).parse(Envelope.new(TakePayment.message_type, data))
    assert command == TakePayment.model_validate(data)


@given(data=take_like | st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_a_keep_card_that_does_not_parse_is_refused_without_quoting_the_card(data: dict[str, object]) -> None:
    """KeepCard carries a card number as TakePayment does, and is refused as carefully when it does not parse."""
    envelope = Envelope.new(KeepCard.message_type, data)
    try:
        command = MessageTypes(KeepCard).parse(envelope)
    except UnacceptableMessage as refused:
        assert CARD not in str(refused)
    else:
        assert isinstance(command, KeepCard)
        assert CARD not in repr(command)


def test_the_events_payment_reacts_to_are_read_for_their_order_id_alone() -> None:
    """The warehouse's and order's events parse with whatever else their owners put in them (tolerant readers)."""
    stock = {"order_id": "ord-1", "lines": [{"sku": "ALB-1", "quantity": 1}], "expires_at": "2026-12-03T10:00:00Z"}
    rejected = {"order_id": "ord-1", "customer_id": "c-1", "total": {}, "reason": "out_of_stock", "detail": "x"}
    types = MessageTypes(StockReserved, OrderCancelled, OrderRejected)
    assert types.parse(Envelope.new(StockReserved.message_type, stock)) == StockReserved(order_id="ord-1")
    assert types.parse(Envelope.new(OrderRejected.message_type, rejected)) == OrderRejected(order_id="ord-1")
