"""The subjects on the wire, pinned: each message's subject is derived from its type, so a rename of a
class or type would move it silently; these are the strings the warehouse and its partners use today."""

from __future__ import annotations

import pytest
from paved.messaging import Message

from warehouse import contract, partners

WIRE = {
    # what the warehouse takes
    contract.ReserveStock: "warehouse.commands.reserve-stock",
    contract.ReleaseStock: "warehouse.commands.release-stock",
    contract.DispatchOrder: "warehouse.commands.dispatch-order",
    # what it announces
    contract.StockReceived: "warehouse.events.stock-received",
    contract.StockReserved: "warehouse.events.stock-reserved",
    contract.StockReleased: "warehouse.events.stock-released",
    contract.OrderPicked: "warehouse.events.order-picked",
    contract.OrderDispatched: "warehouse.events.order-dispatched",
    contract.ReservationRefused: "warehouse.events.reservation-refused",
    # what it reacts to, as order and payment publish it
    partners.FulfilmentRequested: "order.events.fulfilment-requested",
    partners.OrderCancelled: "order.events.order-cancelled",
    partners.OrderRejected: "order.events.order-rejected",
    partners.PaymentTaken: "payment.events.payment-taken",
    partners.PaymentDeclined: "payment.events.payment-declined",
    partners.PaymentFailed: "payment.events.payment-failed",
}


@pytest.mark.parametrize(("message", "subject"), WIRE.items(), ids=[m.__name__ for m in WIRE])
def test_each_message_keeps_its_subject_on_the_wire(message: type[Message], subject: str) -> None:
    """A message type's subject is the string the warehouse and its partners publish it on today."""
    assert message.message_subject == subject


@pytest.mark.parametrize("reply", [contract.OutOfStock, contract.ReservationNotFound])
def test_a_reply_only_goes_where_it_was_asked(reply: type[Message]) -> None:
    """An answer that is not also an event has no subject of its own: it goes to the asker's reply subject."""
    assert reply.message_subject is None


def test_the_streams_take_the_subjects_of_the_warehouse_messages() -> None:
    """WAREHOUSE_COMMANDS takes the commands' subjects and WAREHOUSE_EVENTS the events', as declared today."""
    assert (contract.COMMANDS.name, contract.COMMANDS.subjects) == ("WAREHOUSE_COMMANDS", ["warehouse.commands.>"])
    assert (contract.EVENTS.name, contract.EVENTS.subjects) == ("WAREHOUSE_EVENTS", ["warehouse.events.>"])
