"""The payment service's composition root: builds its paved Service and wires the store, the card processor,
the worker, the command handlers, the reactions to the warehouse's and order's events, the API and its errors."""

from __future__ import annotations

from paved import Clock, Service, utc_now
from paved.messaging import Handling

from payment import __version__, api, contract, handlers, partners, store, tables
from payment.choreography import handlers as choreography
from payment.clients import HttpPaymentProvider
from payment.domain import PaymentNotFoundError
from payment.ports import PaymentProvider, Store
from payment.settings import PaymentSettings
from payment.use_cases import CardKeeper, Cashier
from payment.vault import AesGcmVault
from payment.worker import Worker


def create_service(
    settings: PaymentSettings | None = None, *, provider: PaymentProvider | None = None, clock: Clock = utc_now
) -> Service:
    """The payment service; ``paved serve`` calls this at process start, tests with their settings,
    processor and clock."""
    settings = settings if settings is not None else PaymentSettings()
    service = Service(name="payment", version=__version__, settings=settings, messaging=tables.messaging)
    messaging = service.messaging
    messaging.own(contract.EVENTS)
    # The payment service owns its command stream: whoever sends it commands finds it declared.
    messaging.own(contract.COMMANDS)
    # Every subject of the stream: a command payment does not know (a new type or version) is parked with
    # the reason, not left unread.
    commands = messaging.consumer("payment-commands", stream=contract.COMMANDS, subjects=contract.COMMANDS.subjects)
    # Only the subjects of the events payment reacts to (those of the types it handles): nothing else is
    # sent to it, to be parked as unknown.
    warehouse_events = messaging.consumer(
        "payment-warehouse-events", stream=messaging.follow(partners.WAREHOUSE_EVENTS)
    )
    order_events = messaging.consumer("payment-order-events", stream=messaging.follow(partners.ORDER_EVENTS))

    if provider is None:
        api_key = settings.payment_provider_api_key
        provider = HttpPaymentProvider(
            settings.payment_provider_url,
            timeout=settings.payment_provider_timeout_seconds,
            api_key=api_key.get_secret_value() if api_key else None,
            # Closed by a stop step, so once the worker has stopped: no call is cut off by its client closing.
            client=service.client("payment-provider", settings.payment_provider_url),
        )
    vault = AesGcmVault(settings.card_key)
    cashier = Cashier(
        uow=store.DatabaseUnitOfWork(service.database, messaging.outbox, clock=clock),
        provider=provider,
        vault=vault,
        policy=settings.retry_policy,
        lease=settings.claim_lease,
        clock=clock,
    )
    keeper = CardKeeper(cashier=cashier, vault=vault, clock=clock)
    worker = Worker(cashier, concurrency=settings.payment_worker_concurrency)

    def open_store(handling: Handling) -> Store:
        # The worker is woken once the message is committed, not before: it would find nothing yet.
        store.after_commit(handling.session, worker.wake)
        return store.DatabaseStore(handling.session, handling.outbox, clock=clock)

    handlers.register(commands, cashier=cashier, open_store=open_store)
    choreography.register(commands, warehouse_events, order_events, keeper=keeper, open_store=open_store)
    # The calls in flight at stop get the grace to finish; one cut short is taken again after its lease.
    service.background("payment-worker", worker.run, grace=5.0)
    service.provide(Cashier, cashier)
    service.include_router(api.router)
    service.map_error(PaymentNotFoundError, status=404, title="Payment not found")
    return service
