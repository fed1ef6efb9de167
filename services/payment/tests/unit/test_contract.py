from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from paved import Envelope
from paved.messaging import Message, MessageTypes, UnacceptableMessage

from payment import contract, partners
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


def assert_card_not_shown(command: TakePayment | KeepCard, data: dict[str, object]) -> None:
    """The command's repr shows no card number, unless the sender put the digits in another field too (as its
    customer id, say), where they are that field's value."""
    shown = repr(command)
    assert "card_number" not in shown
    if not any(value == CARD for name, value in data.items() if name != "card_number"):
        assert CARD not in shown


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
        assert_card_not_shown(command, data)


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
        assert_card_not_shown(command, data)


def test_the_events_payment_reacts_to_are_read_for_their_order_id_alone() -> None:
    """The warehouse's and order's events parse with whatever else their owners put in them (tolerant readers)."""
    stock = {"order_id": "ord-1", "lines": [{"sku": "ALB-1", "quantity": 1}], "expires_at": "2026-12-03T10:00:00Z"}
    rejected = {"order_id": "ord-1", "customer_id": "c-1", "total": {}, "reason": "out_of_stock", "detail": "x"}
    types = MessageTypes(StockReserved, OrderCancelled, OrderRejected)
    assert types.parse(Envelope.new(StockReserved.message_type, stock)) == StockReserved(order_id="ord-1")
    assert types.parse(Envelope.new(OrderRejected.message_type, rejected)) == OrderRejected(order_id="ord-1")


# The subjects on the wire today, spelled out: a renamed type or a changed default must not move a message.
SUBJECTS: dict[type[Message], str | None] = {
    contract.TakePayment: "payment.commands.take-payment",
    contract.KeepCard: "payment.commands.keep-card",
    contract.RefundPayment: "payment.commands.refund-payment",
    contract.PaymentTaken: "payment.events.payment-taken",
    contract.PaymentDeclined: "payment.events.payment-declined",
    contract.PaymentFailed: "payment.events.payment-failed",
    contract.PaymentRefunded: "payment.events.payment-refunded",
    contract.NothingToRefund: None,  # a reply only: it goes to the asker's reply subject
    partners.StockReserved: "warehouse.events.stock-reserved",
    partners.OrderCancelled: "order.events.order-cancelled",
    partners.OrderRejected: "order.events.order-rejected",
}


def test_every_message_goes_on_the_subject_it_goes_on_today() -> None:
    """Each message payment sends or takes has the subject it has on the wire now (a reply has none of its own)."""
    assert {kind: kind.message_subject for kind in SUBJECTS} == SUBJECTS


def test_the_streams_payment_owns_take_its_subjects_and_keep_commands_a_day() -> None:
    """PAYMENT_COMMANDS and PAYMENT_EVENTS take every subject of payment's messages; commands (with card
    numbers) are kept one day."""
    assert (contract.COMMANDS.name, contract.COMMANDS.subjects) == ("PAYMENT_COMMANDS", ["payment.commands.>"])
    assert contract.COMMANDS.max_age_seconds == 24 * 3600
    assert (contract.EVENTS.name, contract.EVENTS.subjects, contract.EVENTS.max_age_seconds) == (
        "PAYMENT_EVENTS",
        ["payment.events.>"],
        None,
    )
    assert (partners.WAREHOUSE_EVENTS, partners.ORDER_EVENTS) == ("WAREHOUSE_EVENTS", "ORDER_EVENTS")
