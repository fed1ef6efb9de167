"""Reliable messaging: typed contracts, transactional outbox, idempotent consumers, dead letters."""

from paved.messaging.consumer import Consumer, Handling
from paved.messaging.contracts import Command, Event, Message, MessageTypes, Reply, UnacceptableMessage
from paved.messaging.outbox import Outbox
from paved.messaging.requests import PendingRequest, Requests
from paved.messaging.runtime import Messaging
from paved.messaging.tables import MessagingTables, create_messaging_tables, drop_messaging_tables, messaging_tables

__all__ = [
    "Command",
    "Consumer",
    "Event",
    "Handling",
    "Message",
    "MessageTypes",
    "Messaging",
    "MessagingTables",
    "Outbox",
    "PendingRequest",
    "Reply",
    "Requests",
    "UnacceptableMessage",
    "create_messaging_tables",
    "drop_messaging_tables",
    "messaging_tables",
]
