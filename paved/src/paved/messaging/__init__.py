"""Reliable messaging: typed contracts, transactional outbox, idempotent consumers, dead letters."""

from paved.messaging.consumer import Consumer, Handling
from paved.messaging.contracts import Command, Event, Message, MessageTypes, Reply, UnacceptableMessage
from paved.messaging.outbox import Announce, Announcer, MessageWriter, Outbox
from paved.messaging.requests import PendingRequest, Requests
from paved.messaging.runtime import Followed, Messaging
from paved.messaging.tables import MessagingTables, create_messaging_tables, drop_messaging_tables, messaging_tables
from paved.messaging.transport import Stream

__all__ = [
    "Announce",
    "Announcer",
    "Command",
    "Consumer",
    "Event",
    "Followed",
    "Handling",
    "Message",
    "MessageTypes",
    "MessageWriter",
    "Messaging",
    "MessagingTables",
    "Outbox",
    "PendingRequest",
    "Reply",
    "Requests",
    "Stream",
    "UnacceptableMessage",
    "create_messaging_tables",
    "drop_messaging_tables",
    "messaging_tables",
]
