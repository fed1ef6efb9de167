"""The loyalty service's composition root: builds its paved Service and wires its ledger, commands, reactions
to the choreographed fulfilment's events, API and errors."""

from __future__ import annotations

from paved import Service
from paved.messaging import Handling

from loyalty import __version__, api, handlers, partners, reactions, store
from loyalty.announcements import OutboxAnnouncer
from loyalty.choreography import ChoreographedFulfilment
from loyalty.contract import COMMANDS_STREAM, COMMANDS_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS
from loyalty.partitioning import PartitionCountChangedError
from loyalty.points import Clock, PointsBook, utc_now
from loyalty.settings import LoyaltySettings


def create_service(settings: LoyaltySettings | None = None, *, clock: Clock = utc_now) -> Service:
    """The loyalty service; ``paved serve`` calls this at process start, tests with their settings and clock."""
    settings = settings if settings is not None else LoyaltySettings()
    service = Service(name="loyalty", version=__version__, settings=settings, messaging=store.messaging)
    assert service.messaging is not None
    service.messaging.stream(EVENTS_STREAM, subjects=[EVENTS_SUBJECTS])
    # The loyalty service owns its command stream: whoever sends it commands finds it declared.
    service.messaging.stream(COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS])
    commands = service.messaging.consumer("loyalty-commands", stream=COMMANDS_STREAM, subjects=[COMMANDS_SUBJECTS])
    # order and payment own these streams. They are declared here too, exactly as their owners declare
    # them, because `paved up` prepares the services in name order and a durable consumer cannot be made
    # on a stream that does not exist yet. Each consumer takes only the subjects loyalty reacts to.
    service.messaging.stream(partners.ORDER_EVENTS_STREAM, subjects=[partners.ORDER_EVENTS_SUBJECTS])
    service.messaging.stream(partners.PAYMENT_EVENTS_STREAM, subjects=[partners.PAYMENT_EVENTS_SUBJECTS])
    order_events = service.messaging.consumer(
        "loyalty-order-events",
        stream=partners.ORDER_EVENTS_STREAM,
        subjects=[partners.FULFILMENT_REQUESTED_SUBJECT],
    )
    payment_events = service.messaging.consumer(
        "loyalty-payment-events",
        stream=partners.PAYMENT_EVENTS_STREAM,
        subjects=[partners.PAYMENT_TAKEN_SUBJECT, partners.PAYMENT_REFUNDED_SUBJECT],
    )
    ledger = store.DatabaseLedger(service.database, store.Layout(settings.loyalty_partitions))

    def open_book(handling: Handling) -> PointsBook:
        announce = OutboxAnnouncer(handling.session, handling.outbox, caused_by=handling.envelope)
        return PointsBook(ledger.in_session(handling.session), announce=announce, clock=clock)

    def open_fulfilment(handling: Handling) -> ChoreographedFulfilment:
        orders = store.SqlChoreographedOrders(handling.session, ledger.layout)
        return ChoreographedFulfilment(orders, open_book(handling))

    handlers.register(commands, open_book=open_book)
    reactions.register(order_events=order_events, payment_events=payment_events, open_fulfilment=open_fulfilment)
    # A start with another partition count than the ledger's fails here, before it serves; every
    # transaction checks too (once per process), for the commands taken while it starts.
    service.on_start(ledger.lay_out)
    service.app.state.ledger = ledger
    service.include_router(api.router)
    service.map_error(PartitionCountChangedError, status=503, title="Ledger partitioning misconfigured")
    return service
