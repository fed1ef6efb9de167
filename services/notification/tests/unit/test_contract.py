from __future__ import annotations

import pytest
from paved.messaging import Message

from notification.partners import HANDLED, ORDER_EVENTS, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected

# The subjects order publishes its events on today, as literal strings: a renamed class or type must not
# move notification's consumer off them.
WIRE_SUBJECTS: dict[type[Message], str] = {
    OrderPlaced: "order.events.order-placed",
    OrderDispatched: "order.events.order-dispatched",
    OrderRejected: "order.events.order-rejected",
    OrderCancelled: "order.events.order-cancelled",
}


@pytest.mark.parametrize("event", list(WIRE_SUBJECTS), ids=lambda event: event.__name__)
def test_each_of_orders_events_is_read_on_the_subject_order_publishes_it_on(event: type[Message]) -> None:
    """The subject derived from each copied event's type is exactly the one on the wire today."""
    assert event.message_subject == WIRE_SUBJECTS[event]


def test_every_event_handled_has_its_wire_subject_checked() -> None:
    """No handled event escapes the check above, and they are all on order's stream of events."""
    assert set(HANDLED) == set(WIRE_SUBJECTS)
    assert ORDER_EVENTS == "ORDER_EVENTS"
    assert all(subject.startswith("order.events.") for subject in WIRE_SUBJECTS.values())
