from __future__ import annotations

import pytest
from pydantic import ValidationError

from paved import _context as context
from paved._envelope import Envelope


def test_a_message_caused_by_another_continues_its_correlation() -> None:
    """A message made while handling another keeps its correlation and names it as the cause."""
    placed = Envelope.new("OrderPlaced", {"order_id": "o1"})
    reserve = Envelope.new("ReserveStock", {"order_id": "o1"}, caused_by=placed)
    assert reserve.correlation_id == placed.correlation_id
    assert reserve.causation_id == placed.id
    assert reserve.id != placed.id


def test_a_message_made_in_a_request_takes_its_correlation_id() -> None:
    """Outside any message, the current request's correlation id is used."""
    token = context.correlation_id.set("req-correlation")
    try:
        assert Envelope.new("PriceChanged", {}).correlation_id == "req-correlation"
    finally:
        context.correlation_id.reset(token)


def test_round_trip_and_broker_headers() -> None:
    """The envelope survives serialisation; its headers carry its id, type and version."""
    envelope = Envelope.new("PriceChanged", {"sku": "ALB-00001", "amount_minor": 999}, version=2)
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert envelope.headers()["Paved-Id"] == envelope.id
    assert envelope.headers()["Paved-Version"] == "2"
    assert envelope.occurred_at.tzinfo is not None


def test_a_body_that_is_not_an_envelope_is_refused_with_the_reason() -> None:
    """Parsing names what is missing, so a consumer can park the message with that reason."""
    with pytest.raises(ValidationError, match="correlation_id"):
        Envelope.from_bytes(b'{"type": "X", "data": {}}')
