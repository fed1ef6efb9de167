"""The loyalty service's composition root: builds its paved Service and wires its ledger, commands, reactions
to the choreographed fulfilment's events, API and errors."""

from __future__ import annotations

from paved import Clock, Service, utc_now
from paved.messaging import Announcer, Handling

from loyalty import __version__, api, contract, handlers, partners, store, tables
from loyalty.announcements import event_of
from loyalty.choreography import handlers as choreography
from loyalty.choreography.fulfilment import ChoreographedFulfilment
from loyalty.partitioning import PartitionCountChangedError
from loyalty.settings import LoyaltySettings
from loyalty.use_cases import PointsBook


def create_service(settings: LoyaltySettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The loyalty service; ``paved serve`` calls this at process start, tests with their settings and clock."""
    settings = settings if settings is not None else LoyaltySettings()
    service = Service(name="loyalty", version=__version__, settings=settings, messaging=tables.messaging)
    messaging = service.messaging
    messaging.own(contract.EVENTS)
    # The loyalty service owns its command stream: whoever sends it commands finds it declared. Its consumer
    # takes the whole stream, not only the types it knows: a command of another type or version is loyalty's
    # all the same, and is parked with the reason rather than left unread.
    commands_stream = messaging.own(contract.COMMANDS)
    commands = messaging.consumer("loyalty-commands", stream=commands_stream, subjects=commands_stream.subjects)
    # order and payment own these: loyalty binds to them as declared, and waits for them if it starts first.
    # Each consumer takes only the subjects of the events it handles.
    order_events = messaging.consumer("loyalty-order-events", stream=messaging.follow(partners.ORDER_EVENTS))
    payment_events = messaging.consumer("loyalty-payment-events", stream=messaging.follow(partners.PAYMENT_EVENTS))
    ledger = store.DatabaseLedger(service.database, store.Layout(settings.loyalty_partitions))

    def open_book(handling: Handling) -> PointsBook:
        announce = Announcer(handling.session, handling.outbox, event_of=event_of, caused_by=handling.envelope)
        return PointsBook(ledger.in_session(handling.session), announce=announce, clock=clock)

    def open_fulfilment(handling: Handling) -> ChoreographedFulfilment:
        orders = store.SqlChoreographedOrders(handling.session, ledger.layout)
        return ChoreographedFulfilment(orders, open_book(handling))

    handlers.register(commands, open_book=open_book)
    choreography.register(order_events=order_events, payment_events=payment_events, open_fulfilment=open_fulfilment)
    # A start with another partition count than the ledger's fails here, before it serves or takes a message;
    # every transaction checks too (once per process).
    service.on_start(ledger.lay_out)
    service.provide(store.DatabaseLedger, ledger)
    service.include_router(api.router)
    service.map_error(PartitionCountChangedError, status=503, title="Ledger partitioning misconfigured")
    return service
