"""The warehouse's composition root: builds its paved Service and wires its store, API, message handlers and errors."""

from __future__ import annotations

from paved import Envelope, Service, ServiceSettings
from paved.messaging import Handling, Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse import __version__, api, choreography, handlers, partners, store
from warehouse.announcements import OutboxAnnouncer
from warehouse.contract import COMMANDS_STREAM, COMMANDS_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS
from warehouse.domain import (
    AlreadyDispatchedError,
    InvalidQuantityError,
    InvalidReservationError,
    OutOfStockError,
    ReceiptMismatchError,
    ReservationExpiredError,
    ReservationMismatchError,
    ReservationNotFoundError,
    ReservationReleasedError,
)
from warehouse.operations import Clock, Warehouse, utc_now

# Each refusal of the domain, as the problem response that answers it over HTTP.
_PROBLEMS: list[tuple[type[Exception], int, str]] = [
    (OutOfStockError, 409, "Out of stock"),
    (ReservationNotFoundError, 404, "Reservation not found"),
    (ReservationMismatchError, 409, "Order already reserved with other lines"),
    (ReservationExpiredError, 409, "Reservation expired"),
    (ReservationReleasedError, 409, "Reservation released"),
    (AlreadyDispatchedError, 409, "Order already dispatched"),
    (ReceiptMismatchError, 409, "Receipt already booked"),
    (InvalidQuantityError, 422, "Quantity is not valid"),
    (InvalidReservationError, 422, "Reservation is not valid"),
]


def create_service(settings: ServiceSettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The warehouse service; ``paved serve`` calls this at process start, tests with their settings and clock."""
    service = Service(name="warehouse", version=__version__, settings=settings, messaging=store.messaging)
    messaging = service.messaging
    assert messaging is not None
    messaging.stream(EVENTS_STREAM, subjects=[EVENTS_SUBJECTS])
    # The warehouse owns its command stream: whoever sends it commands finds it declared.
    messaging.stream(COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS])
    commands = messaging.consumer("warehouse-commands", stream=COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS])
    # order and payment own these streams. They are declared here too, exactly as their owners declare
    # them, because a durable consumer cannot be made on a stream that does not exist yet, and nothing
    # says the owner was prepared first (`paved up` prepares services in name order; a test, only this one).
    messaging.stream(partners.ORDER_EVENTS_STREAM, subjects=[partners.ORDER_EVENTS_SUBJECTS])
    messaging.stream(partners.PAYMENT_EVENTS_STREAM, subjects=[partners.PAYMENT_EVENTS_SUBJECTS])
    # Filtered to the events the choreography reacts to: the others are none of the warehouse's business.
    order_events = messaging.consumer(
        "warehouse-order-events",
        stream=partners.ORDER_EVENTS_STREAM,
        subjects=[
            partners.FULFILMENT_REQUESTED_SUBJECT,
            partners.ORDER_CANCELLED_SUBJECT,
            partners.ORDER_REJECTED_SUBJECT,
        ],
    )
    payment_events = messaging.consumer(
        "warehouse-payment-events",
        stream=partners.PAYMENT_EVENTS_STREAM,
        subjects=[partners.PAYMENT_TAKEN_SUBJECT, partners.PAYMENT_DECLINED_SUBJECT, partners.PAYMENT_FAILED_SUBJECT],
    )

    def open_warehouse(session: AsyncSession, outbox: Outbox, caused_by: Envelope | None = None) -> Warehouse:
        announce = OutboxAnnouncer(session, outbox, caused_by=caused_by)
        return store.warehouse_in(session, announce=announce, clock=clock)

    def open_for(handling: Handling) -> Warehouse:
        return open_warehouse(handling.session, handling.outbox, handling.envelope)

    handlers.register(commands, open_warehouse=open_for)
    choreography.register(
        order_events,
        payment_events,
        open_warehouse=open_for,
        choreographed_in=lambda handling: store.ChoreographedOrderBook(handling.session),
    )
    api.install(service, open_warehouse=open_warehouse)
    for error, status, title in _PROBLEMS:
        service.map_error(error, status=status, title=title)
    return service
