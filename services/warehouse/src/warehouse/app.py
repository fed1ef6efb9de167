"""The warehouse's composition root: builds its paved Service and wires its use cases, API, message handlers and errors."""

from __future__ import annotations

from paved import Clock, Service, ServiceSettings, utc_now
from paved.messaging import Handling

from warehouse import __version__, api, choreography, handlers, partners, store, tables
from warehouse.contract import COMMANDS, EVENTS
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
from warehouse.use_cases import Warehouse

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
    service = Service(name="warehouse", version=__version__, settings=settings, messaging=tables.messaging)
    messaging = service.messaging
    messaging.own(EVENTS)
    # The warehouse owns its command stream: whoever sends it commands finds it declared. Its consumer
    # takes every subject of it, so that a command of a kind it does not know is parked with the reason.
    commands = messaging.consumer("warehouse-commands", stream=messaging.own(COMMANDS), subjects=COMMANDS.subjects)
    # order's and payment's streams, as their owners declare them; each consumer takes the subjects of
    # the events the choreography reacts to: the others are none of the warehouse's business.
    order_events = messaging.consumer("warehouse-order-events", stream=messaging.follow(partners.ORDER_EVENTS))
    payment_events = messaging.consumer("warehouse-payment-events", stream=messaging.follow(partners.PAYMENT_EVENTS))

    def warehouse_for(handling: Handling) -> Warehouse:
        return Warehouse(work=store.HandlingTransaction(handling), clock=clock)

    handlers.register(commands, warehouse_for=warehouse_for)
    choreography.register(
        order_events,
        payment_events,
        warehouse_for=warehouse_for,
        choreographed_in=lambda handling: store.ChoreographedOrderBook(handling.session),
    )
    service.provide(Warehouse, Warehouse(work=store.Transactions(service.database, messaging.outbox), clock=clock))
    service.include_router(api.router)
    for error, status, title in _PROBLEMS:
        service.map_error(error, status=status, title=title)
    return service
