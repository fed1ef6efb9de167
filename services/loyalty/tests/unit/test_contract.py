from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paved import Envelope
from paved.messaging import Message, MessageTypes, UnacceptableMessage

from loyalty import contract, partners
from loyalty.contract import AwardPoints, RevokePoints

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
award_like = st.fixed_dictionaries(
    {},
    optional={
        "order_id": json_values | st.just("o-1"),
        "customer_id": json_values | st.just("acc_ann"),
        "amount": json_values
        | st.fixed_dictionaries(
            {}, optional={"amount_minor": json_values | st.just(1299), "currency": json_values | st.just("GBP")}
        ),
    },
)
ACCEPTED = MessageTypes(AwardPoints, RevokePoints)


# Today's wire subjects, written out: a renamed class or type must not move a message to another subject.
@pytest.mark.parametrize(
    ("message", "subject"),
    [
        (contract.AwardPoints, "loyalty.commands.award-points"),
        (contract.RevokePoints, "loyalty.commands.revoke-points"),
        (contract.PointsAwarded, "loyalty.events.points-awarded"),
        (contract.PointsRevoked, "loyalty.events.points-revoked"),
        (partners.FulfilmentRequested, "order.events.fulfilment-requested"),
        (partners.PaymentTaken, "payment.events.payment-taken"),
        (partners.PaymentRefunded, "payment.events.payment-refunded"),
    ],
)
def test_every_message_keeps_its_subject(message: type[Message], subject: str) -> None:
    """Each message loyalty takes or publishes goes on the subject it always has (its owner's, for partners')."""
    assert message.message_subject == subject


def test_loyalty_owns_its_streams_under_their_names_and_subjects() -> None:
    """LOYALTY_COMMANDS and LOYALTY_EVENTS keep their names and subjects; the followed streams keep theirs."""
    assert (contract.COMMANDS.name, contract.COMMANDS.subjects) == ("LOYALTY_COMMANDS", ["loyalty.commands.>"])
    assert (contract.EVENTS.name, contract.EVENTS.subjects) == ("LOYALTY_EVENTS", ["loyalty.events.>"])
    assert (partners.ORDER_EVENTS, partners.PAYMENT_EVENTS) == ("ORDER_EVENTS", "PAYMENT_EVENTS")


@given(
    message_type=st.sampled_from(["loyalty.AwardPoints", "loyalty.RevokePoints", "loyalty.Other"]),
    version=st.integers(1, 3),
    data=award_like | st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)
def test_a_command_is_either_valid_or_refused_with_the_reason(
    message_type: str, version: int, data: dict[str, object]
) -> None:
    """Whatever data arrives, the consumer gets a valid command or an UnacceptableMessage to park, nothing else."""
    envelope = Envelope(type=message_type, version=version, correlation_id="c-1", data=data)
    try:
        command = ACCEPTED.parse(envelope)
    except UnacceptableMessage as refused:
        assert str(refused)
        return
    assert isinstance(command, AwardPoints | RevokePoints)
    assert command.order_id and command.customer_id
    if isinstance(command, AwardPoints):
        assert isinstance(command.amount.amount_minor, int) and command.amount.amount_minor >= 0


def test_an_amount_in_pounds_or_as_text_is_refused() -> None:
    """12.99 or "1299" are not an amount of minor units: strictness keeps a float or a string from becoming points."""
    for amount in (12.99, "1299", True):
        envelope = Envelope(
            type="loyalty.AwardPoints",
            correlation_id="c-1",
            data={"order_id": "o-1", "customer_id": "acc_ann", "amount": {"amount_minor": amount, "currency": "GBP"}},
        )
        try:
            ACCEPTED.parse(envelope)
        except UnacceptableMessage as refused:
            assert "amount_minor" in str(refused)
        else:
            raise AssertionError(f"{amount!r} was taken as an amount")
