from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from paved import Envelope
from paved.messaging import Consumer, MessageTypes
from paved.testing import RecordingOutbox, handling_of

from warehouse import choreography, partners
from warehouse.domain import Line, OrderDispatched, ReservationStatus, StockReleased, StockReserved

from ..partner_events import RELEASING, about, fulfilment_requested
from .fakes import FakeChoreographedOrders, FakeStore, ManualClock, stocked


class Choreography:
    """The warehouse's reactions over a fake store; what they send goes to a recording outbox."""

    def __init__(self, store: FakeStore, clock: ManualClock) -> None:
        self.store = store
        self.clock = clock
        self.order_events = Consumer(name="warehouse-order-events", stream=partners.ORDER_EVENTS)
        self.payment_events = Consumer(name="warehouse-payment-events", stream=partners.PAYMENT_EVENTS)
        choreography.register(
            self.order_events,
            self.payment_events,
            warehouse_for=lambda _: store.warehouse(clock, joined=True),
            choreographed_in=lambda _: FakeChoreographedOrders(store),
        )
        self.outbox = RecordingOutbox()

    async def publish(self, envelope: Envelope) -> None:
        """Handle ``envelope`` as the consumer does: parsed by its types, in one (fake) transaction."""
        consumer = self.order_events if envelope.type.startswith("order.") else self.payment_events
        message = MessageTypes(*consumer.handlers).parse(envelope)
        # The handler sees the envelope as delivered (its id, correlation), with no database behind it.
        handling = replace(handling_of(message, outbox=self.outbox), envelope=envelope)
        with self.store.transaction():
            await consumer.handlers[type(message)](handling, message)

    async def reserve_orchestrated(self, order_id: str) -> None:
        """An order reserved by command (orchestrated): the warehouse holds its stock, with no choreography."""
        with self.store.transaction():
            await self.store.warehouse(self.clock).reserve(
                order_id=order_id, lines=[Line("ALB-00001", 1)], ttl=timedelta(minutes=15)
            )

    def sent(self) -> list[tuple[str, Envelope]]:
        """(subject, envelope) of each message the reactions sent themselves, in order."""
        return [(sent.subject, sent.envelope) for sent in self.outbox.sent]

    def announced(self) -> list[str]:
        """The kinds of fact the warehouse's use cases announced, in order."""
        return [type(fact).__name__ for fact in self.store.announced]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def test_a_fulfilment_request_reserves_every_line_and_remembers_the_order(clock: ManualClock) -> None:
    """FulfilmentRequested holds all the order's lines (StockReserved is announced) and writes the order down."""
    warehouse = Choreography(stocked(ALB_00001=3, ALB_00002=1), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2, ALB_00002=1))
    [reserved] = warehouse.store.announced
    assert isinstance(reserved, StockReserved) and reserved.order_id == "o-1"
    assert warehouse.store.reservations["o-1"].lines == (Line("ALB-00001", 2), Line("ALB-00002", 1))
    assert "o-1" in warehouse.store.choreographed
    assert warehouse.sent() == []


async def test_a_short_order_is_refused_with_its_shortages_and_holds_nothing(clock: ManualClock) -> None:
    """One short line: nothing is held, and ReservationRefused names each short SKU, correlated with the order."""
    warehouse = Choreography(stocked(ALB_00001=3, ALB_00002=1), clock)
    request = fulfilment_requested("o-1", ALB_00001=2, ALB_00002=2)
    await warehouse.publish(request)
    [(subject, refused)] = warehouse.sent()
    assert (subject, refused.type) == ("warehouse.events.reservation-refused", "warehouse.ReservationRefused")
    assert refused.data["shortages"] == [{"sku": "ALB-00002", "requested": 2, "available": 1}]
    assert refused.data["refused_at"] == clock.now.isoformat().replace("+00:00", "Z")
    assert (refused.correlation_id, refused.causation_id) == ("o-1", request.id)
    assert warehouse.store.reservations == {} and warehouse.store.announced == []
    assert warehouse.store.stock["ALB-00001"].available == 3
    assert "o-1" in warehouse.store.choreographed


async def test_asking_again_for_a_reserved_order_changes_nothing(clock: ManualClock) -> None:
    """A second FulfilmentRequested of the order (another message) holds nothing more and announces nothing."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    assert warehouse.announced() == ["StockReserved"]
    assert warehouse.store.stock["ALB-00001"].reserved == 2


async def test_a_refusal_stands_even_once_the_stock_is_there(clock: ManualClock) -> None:
    """Asked again after a refusal and a delivery, the order is neither reserved nor refused a second time."""
    warehouse = Choreography(stocked(ALB_00001=1), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    warehouse.store.stock["ALB-00001"].receive(5, receipt_id="r-1", at=clock.now)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    assert warehouse.store.reservations == {}
    assert [envelope.type for _, envelope in warehouse.sent()] == ["warehouse.ReservationRefused"]


async def test_a_taken_payment_dispatches_the_order_once(clock: ManualClock) -> None:
    """PaymentTaken sends the held units out (OrderDispatched); another PaymentTaken changes nothing."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(about("o-1", "payment.PaymentTaken"))
    await warehouse.publish(about("o-1", "payment.PaymentTaken"))
    assert warehouse.announced() == ["StockReserved", "OrderDispatched"]
    assert warehouse.store.stock["ALB-00001"].dispatched == 2


async def test_a_payment_taken_after_the_hold_lapsed_puts_the_stock_back(clock: ManualClock) -> None:
    """A hold that lapsed before the money came is not dispatched: it is let go, and StockReleased(expired) told."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    clock.advance(minutes=15)
    await warehouse.publish(about("o-1", "payment.PaymentTaken"))
    released = warehouse.store.announced[-1]
    assert isinstance(released, StockReleased) and released.reason == "expired"
    assert warehouse.store.reservations["o-1"].status is ReservationStatus.EXPIRED
    assert warehouse.store.stock["ALB-00001"].available == 3


@pytest.mark.parametrize("event_type", RELEASING)
async def test_nothing_paid_or_the_order_given_up_puts_the_stock_back_once(clock: ManualClock, event_type: str) -> None:
    """A declined or failed payment, a cancellation or a rejection releases the hold (StockReleased), once."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(about("o-1", event_type))
    await warehouse.publish(about("o-1", event_type))
    assert warehouse.announced() == ["StockReserved", "StockReleased"]
    assert warehouse.store.reservations["o-1"].status is ReservationStatus.RELEASED
    assert warehouse.store.stock["ALB-00001"].available == 3


async def test_a_payment_taken_after_a_cancellation_dispatches_nothing(clock: ManualClock) -> None:
    """Stock released for a cancelled order stays on the shelf when the payment comes anyway (payment refunds it)."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(about("o-1", "order.OrderCancelled"))
    await warehouse.publish(about("o-1", "payment.PaymentTaken"))
    assert warehouse.announced() == ["StockReserved", "StockReleased"]
    assert warehouse.store.stock["ALB-00001"].available == 3


@pytest.mark.parametrize("event_type", RELEASING)
async def test_a_dispatched_order_is_not_released(clock: ManualClock, event_type: str) -> None:
    """Once the units have left, a late cancellation or failure changes nothing, and is not a failure."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(about("o-1", "payment.PaymentTaken"))
    await warehouse.publish(about("o-1", event_type))
    assert isinstance(warehouse.store.announced[-1], OrderDispatched)
    assert warehouse.store.stock["ALB-00001"].dispatched == 2


@pytest.mark.parametrize("event_type", [*RELEASING, "payment.PaymentTaken"])
async def test_a_refused_order_has_nothing_to_dispatch_or_release(clock: ManualClock, event_type: str) -> None:
    """Events of an order that was refused find nothing held: no change, and no failure (nothing to retry)."""
    warehouse = Choreography(stocked(ALB_00001=1), clock)
    await warehouse.publish(fulfilment_requested("o-1", ALB_00001=2))
    await warehouse.publish(about("o-1", event_type))
    assert warehouse.store.reservations == {} and warehouse.store.announced == []


@pytest.mark.parametrize("event_type", [*RELEASING, "payment.PaymentTaken"])
async def test_an_orchestrated_orders_events_change_nothing(clock: ManualClock, event_type: str) -> None:
    """An order reserved by command is driven by commands: payment's and order's events leave its hold as it is."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.reserve_orchestrated("o-1")
    await warehouse.publish(about("o-1", event_type))
    assert warehouse.store.reservations["o-1"].status is ReservationStatus.HELD
    assert warehouse.announced() == ["StockReserved"]
    assert warehouse.store.choreographed == {}


async def test_an_event_of_an_order_never_heard_of_is_ignored(clock: ManualClock) -> None:
    """An order the warehouse has no reservation and no choreography for: acknowledged, nothing happens."""
    warehouse = Choreography(stocked(ALB_00001=3), clock)
    await warehouse.publish(about("never-seen", "payment.PaymentTaken"))
    await warehouse.publish(about("never-seen", "order.OrderCancelled"))
    assert warehouse.store.announced == [] and warehouse.sent() == []
