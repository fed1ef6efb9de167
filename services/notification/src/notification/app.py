"""notification's composition root: builds its paved Service and wires its consumer, sender, API and page."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI
from paved import Service
from paved.context import new_id

from notification import __version__, api, handlers, pages, store
from notification.domain import EmailNotFoundError
from notification.mailers import LoggingMailer
from notification.order_events import HANDLED_SUBJECTS, ORDER_EVENTS_STREAM, ORDER_EVENTS_SUBJECTS
from notification.ports import Clock, Mailer
from notification.sending import Sender, SendingLoop
from notification.settings import NotificationSettings

CONSUMER = "notification-orders"


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_message_id() -> str:
    """An opaque message id (``contract.MESSAGE_ID_PATTERN``)."""
    return f"msg_{new_id()}"


def create_service(
    settings: NotificationSettings | None = None,
    *,
    mailer: Mailer | None = None,
    clock: Clock = utc_now,
    message_ids: Callable[[], str] = new_message_id,
) -> Service:
    """The notification service; ``paved serve`` calls this at process start, tests with their settings and mailer.

    The sender runs in the app's lifespan (what uvicorn runs), after paved has started the database and
    broker and before it stops them; ``Service.running()`` starts only paved's part, so tests drive the
    sender themselves there (``service.app.state.sender``).
    """
    settings = settings if settings is not None else NotificationSettings()
    service = Service(name="notification", version=__version__, settings=settings, messaging=store.messaging)
    assert service.messaging is not None
    # order owns this stream. It is declared here too, exactly as order declares it, because `paved up`
    # declares each service's streams and consumers in name order, and notification's durable consumer
    # cannot be made on a stream that does not exist yet (see docs/notification.md).
    service.messaging.stream(ORDER_EVENTS_STREAM, subjects=[ORDER_EVENTS_SUBJECTS])
    orders = service.messaging.consumer(CONSUMER, stream=ORDER_EVENTS_STREAM, subjects=HANDLED_SUBJECTS)
    handlers.register(
        orders, emails_in=lambda handling: store.SqlEmails(handling.session), new_id=message_ids, clock=clock
    )

    uow = store.DatabaseUnitOfWork(service.database)
    sender = Sender(
        uow=uow,
        mailer=mailer if mailer is not None else LoggingMailer(),
        policy=settings.retry_policy,
        clock=clock,
        batch_size=settings.notification_send_batch_size,
    )
    sending = SendingLoop(sender, interval=settings.notification_send_interval_seconds)
    service.app.state.uow = uow
    service.app.state.sender = sender

    def run_sender(_: FastAPI) -> AbstractAsyncContextManager[None]:
        return sending.running()

    # paved's Service has on_start but nothing at stop, and a task started on_start would outlive the
    # database it polls. FastAPI nests a router's lifespan inside the app's (paved's), so the loop starts
    # after paved's start-up (on_start steps included) and is stopped before paved stops anything.
    service.include_router(APIRouter(lifespan=run_sender))
    service.include_router(api.router)
    service.include_router(pages.router)
    service.map_error(EmailNotFoundError, status=404, title="Message not found")
    return service
