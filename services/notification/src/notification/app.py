"""notification's composition root: builds its paved Service and wires its consumer, sender, API and page."""

from __future__ import annotations

from collections.abc import Callable

from paved import Clock, Service, new_id, poller, utc_now

from notification import __version__, api, handlers, store, tables
from notification.domain import EmailNotFoundError
from notification.mailers import LoggingMailer
from notification.partners import ORDER_EVENTS
from notification.ports import Mailer
from notification.settings import NotificationSettings
from notification.use_cases import Notifications

CONSUMER = "notification-orders"


def new_message_id() -> str:
    """An opaque message id (``contract.MESSAGE_ID_PATTERN``)."""
    return f"msg_{new_id()}"


def create_service(
    settings: NotificationSettings | None = None,
    *,
    mailer: Mailer | None = None,
    clock: Clock = utc_now,
    message_ids: Callable[[], str] = new_message_id,
    sending: bool = True,
) -> Service:
    """The notification service; ``paved serve`` calls this at process start, tests with their settings and mailer.

    The sender runs in the background while the service runs (``sending=False`` leaves it out, for tests
    that send with ``Notifications.send_due`` themselves, when they mean to).
    """
    settings = settings if settings is not None else NotificationSettings()
    service = Service(name="notification", version=__version__, settings=settings, messaging=tables.messaging)
    notifications = Notifications(
        uow=store.DatabaseUnitOfWork(service.database),
        mailer=mailer if mailer is not None else LoggingMailer(),
        policy=settings.retry_policy,
        clock=clock,
        new_id=message_ids,
        batch_size=settings.notification_send_batch_size,
    )
    service.provide(Notifications, notifications)

    # order owns its stream and declares it; the consumer takes the subjects of the events it handles.
    orders = service.messaging.consumer(CONSUMER, stream=service.messaging.follow(ORDER_EVENTS))
    handlers.register(orders, notifications=notifications, emails_in=lambda handling: store.SqlEmails(handling.session))
    if sending:
        interval = settings.notification_send_interval_seconds
        service.background("notification-sender", poller(notifications.send_round, every=interval))

    service.include_router(api.router)
    service.map_error(EmailNotFoundError, status=404, title="Message not found")
    return service
