"""A service's broker user, in the broker's own names: made from what its messaging declares (``BrokerAccess``).

On NATS a JetStream client does everything by publishing: its messages to their subjects, and its API calls
(declare a stream, create a consumer, fetch, acknowledge) to ``$JS.API.…`` and ``$JS.ACK.…`` subjects, each
naming the stream and consumer; the answers come back to the client's inbox. So a user's publish allow-list
names exactly its streams, consumers and subjects, and it subscribes only to an inbox of its own
(``inbox_prefix``), so that no service reads another's answers (its fetched messages among them).
The subjects are those nats-py uses (``nats.js.manager``: ``CONSUMER.CREATE`` on servers from 2.9, with
the filter appended when there is one, and ``CONSUMER.DURABLE.CREATE`` before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from paved.messaging._transport import DLQ_SUBJECT_PREFIX

# The JetStream transport's dead-letter stream (``paved.messaging._jetstream.DLQ_STREAM``), named here
# without importing nats-py.
DLQ_STREAM = "PAVED_DLQ"


@dataclass(frozen=True)
class BrokerAccess:
    """What one service may do on a locked broker, from its messaging declarations alone.

    The broker's own names (JetStream API subjects, RabbitMQ queues) are made from it below.
    """

    service: str
    # The streams it declares (creates, updates).
    streams: list[str]
    # The subjects it publishes on: its events, the commands it sends, the replies to those it takes commands from.
    publishes: list[str]
    # (stream, consumer): the durable consumers it reads and acknowledges.
    consumers: list[tuple[str, str]]
    # Each consumer's subjects (RabbitMQ binds its queue to them).
    bindings: dict[str, list[str]]


def shown(url: str) -> str:
    """A broker ``url`` as logs and messages show it: a password in it (a locked broker's user) hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    port = "" if parts.port is None else f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.hostname}{port}"))


def inbox_prefix(service: str) -> str:
    """Where a service's answers from NATS arrive: a prefix no other service may subscribe to."""
    return f"_INBOX_{service}"


def nats_permissions(access: BrokerAccess) -> dict[str, Any]:
    """The ``permissions`` block of the service's user in a nats-server configuration."""
    api = "$JS.API"
    publish = [
        *access.publishes,
        # Parking: a consumer's dead letters, and the outbox's messages that no stream takes.
        *(f"{DLQ_SUBJECT_PREFIX}.{name}" for _, name in access.consumers),
        f"{DLQ_SUBJECT_PREFIX}.outbox",
        f"{api}.INFO",
        # The dead letters' stream is the platform's: a service only finds it there.
        f"{api}.STREAM.INFO.{DLQ_STREAM}",
    ]
    for stream in access.streams:
        publish += [f"{api}.STREAM.CREATE.{stream}", f"{api}.STREAM.UPDATE.{stream}", f"{api}.STREAM.INFO.{stream}"]
    for stream, consumer in access.consumers:
        publish += [
            f"{api}.CONSUMER.CREATE.{stream}.{consumer}",
            f"{api}.CONSUMER.CREATE.{stream}.{consumer}.>",
            f"{api}.CONSUMER.DURABLE.CREATE.{stream}.{consumer}",
            f"{api}.CONSUMER.INFO.{stream}.{consumer}",
            f"{api}.CONSUMER.MSG.NEXT.{stream}.{consumer}",
            f"$JS.ACK.{stream}.{consumer}.>",
        ]
    return {"publish": {"allow": publish}, "subscribe": {"allow": [f"{inbox_prefix(access.service)}.>"]}}


def _subject_regex(subject: str) -> str:
    """A NATS subject filter as a regular expression over the routing keys it takes (``>``: one or more words)."""
    words = {">": r"[^.]+(\.[^.]+)*", "*": r"[^.]+"}
    return r"\.".join(words.get(word, re.escape(word)) for word in subject.split("."))


def _either(*alternatives: str) -> str:
    return "^(" + "|".join(alternatives) + ")$"


def rabbitmq_permissions(access: BrokerAccess) -> dict[str, str]:
    """The service's user on RabbitMQ: ``rabbitmqctl set_permissions`` (configure, write, read over exchange and
    queue names) and ``set_topic_permissions`` on the ``paved`` exchange (write: the routing keys it may
    publish; read: the binding keys it may bind its queues with)."""
    # Imported here: naming RabbitMQ's parts needs the transport's names, not a connection.
    from paved.messaging._rabbitmq import (  # noqa: PLC0415
        EXCHANGE,
        WAIT_PREFIX,
        redelivery_key,
        routing_pattern,
    )

    consumers = [name for _, name in access.consumers]
    names = "|".join(re.escape(name) for name in consumers) or "(?!)"
    # Its consumers' queues and the queues their retries wait in (``wait_queue``).
    queues = rf"({names})(\.wait\.[0-9]+ms)?"
    waits = rf"{re.escape(WAIT_PREFIX)}\.({names})\.[0-9]+ms"
    bindings = [re.escape(routing_pattern(s)) for name in consumers for s in access.bindings[name]]
    return {
        # Declaring its queues (with the exchange as their dead-letter exchange), binding them, consuming.
        "configure": _either(queues),
        "write": _either(re.escape(EXCHANGE), queues),
        "read": _either(re.escape(EXCHANGE), queues),
        "topic_write": _either(
            *(_subject_regex(subject) for subject in access.publishes),
            rf"{re.escape(DLQ_SUBJECT_PREFIX)}\.({names})",
            waits,
        ),
        "topic_read": _either(*bindings, waits, *(re.escape(redelivery_key(name)) for name in consumers)),
    }
