"""A service's messaging as declared: who owns a stream, who follows it, and what a consumer may read."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from paved import Service, ServiceSettings
from paved.messaging import Stream, messaging_tables


def warehouse() -> Service:
    settings = ServiceSettings(database_url="sqlite+aiosqlite:///:memory:", broker_url="memory://unused")
    return Service(name="warehouse", version="0", settings=settings, messaging=messaging_tables(MetaData()))


def test_a_service_owns_only_streams_under_its_own_name() -> None:
    """A stream of another service's subjects is that service's to declare: owning it is refused, naming follow."""
    messaging = warehouse().messaging
    messaging.own(Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"]))
    with pytest.raises(ValueError, match="follow"):
        messaging.own(Stream("ORDER_EVENTS", subjects=["order.events.>"]))
    with pytest.raises(ValueError, match="already owns"):
        messaging.own(Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"]))


def test_a_consumer_reads_a_stream_its_service_owns_or_follows() -> None:
    """A consumer is declared on an owned or followed stream; on any other it is a wiring mistake, refused."""
    messaging = warehouse().messaging
    order_events = messaging.follow("ORDER_EVENTS")
    assert messaging.follow("ORDER_EVENTS") == order_events  # following twice is following once
    messaging.consumer("warehouse-order-events", stream=order_events, subjects=["order.events.>"])
    with pytest.raises(ValueError, match="already has a consumer"):
        messaging.consumer("warehouse-order-events", stream=order_events, subjects=["order.events.>"])
    with pytest.raises(ValueError, match="neither owned nor followed"):
        messaging.consumer("strays", stream=Stream("PAYMENT_EVENTS", subjects=["payment.events.>"]))


def test_commands_are_answered_on_the_services_own_reply_stream() -> None:
    """Sending commands gives the service its reply stream and one consumer of it, once."""
    messaging = warehouse().messaging
    requests = messaging.send_commands()
    assert messaging.send_commands() is requests
    assert requests.reply_subject == "warehouse.replies"
    assert [s.name for s in messaging.streams] == ["WAREHOUSE_REPLIES"]


def test_messaging_needs_a_database() -> None:
    """The outbox and inbox live in the service's database: messaging without one is refused at build."""
    with pytest.raises(ValueError, match="database"):
        Service(name="bff", version="0", database=False, messaging=messaging_tables(MetaData()))
