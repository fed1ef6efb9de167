"""Reliable messaging: typed contracts, transactional outbox, idempotent consumers, dead letters."""

from paved.messaging._brokers import connected, connection_for
from paved.messaging._consumer import Consumer, Handling
from paved.messaging._contracts import (
    Command,
    DeadlineExpired,
    Event,
    Message,
    MessageTypes,
    Reply,
    UnacceptableMessage,
)
from paved.messaging._outbox import Announce, Announcer, MessageWriter, Outbox, UndeclaredCommandError
from paved.messaging._permissions import BrokerAccess, nats_permissions, rabbitmq_permissions
from paved.messaging._requests import PendingRequest, Requests
from paved.messaging._runtime import Followed, Messaging
from paved.messaging._tables import MessagingTables, create_messaging_tables, drop_messaging_tables, messaging_tables
from paved.messaging._transport import (
    BrokerUnreachable,
    Connection,
    DeadLetter,
    Delivery,
    Outgoing,
    Stream,
    StreamNotFound,
    Subscription,
    Transport,
)

__all__ = [
    "Announce",
    "Announcer",
    "BrokerAccess",
    "BrokerUnreachable",
    "Command",
    "Connection",
    "Consumer",
    "DeadLetter",
    "DeadlineExpired",
    "Delivery",
    "Event",
    "Followed",
    "Handling",
    "Message",
    "MessageTypes",
    "MessageWriter",
    "Messaging",
    "MessagingTables",
    "Outbox",
    "Outgoing",
    "PendingRequest",
    "Reply",
    "Requests",
    "Stream",
    "StreamNotFound",
    "Subscription",
    "Transport",
    "UnacceptableMessage",
    "UndeclaredCommandError",
    "connected",
    "connection_for",
    "create_messaging_tables",
    "drop_messaging_tables",
    "messaging_tables",
    "nats_permissions",
    "rabbitmq_permissions",
]
