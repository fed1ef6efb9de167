"""The broker a service talks to, chosen by the scheme of its ``broker_url``.

``nats://`` (or ``tls://``) is NATS JetStream, ``amqp://`` (or ``amqps://``) RabbitMQ, and ``memory://NAME``
an in-process broker for tests (``paved.messaging._memory``). Each implementation is imported only when
its scheme is asked for: a NATS service never loads aio-pika.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from paved.messaging._transport import Connection, Transport

_NATS = ("nats://", "tls://")
_RABBITMQ = ("amqp://", "amqps://")
_MEMORY = ("memory://",)


def _refuse(url: str) -> ValueError:
    return ValueError(f"broker_url {url!r}: its scheme must be nats:// (JetStream), amqp:// (RabbitMQ) or memory://")


def connection_for(url: str, *, name: str) -> Connection:
    """A service's broker connection for ``url``, not yet started."""
    if url.startswith(_NATS):
        from paved.messaging._jetstream import JetStreamConnection  # noqa: PLC0415

        return JetStreamConnection(url, name=name)
    if url.startswith(_RABBITMQ):
        from paved.messaging._rabbitmq import RabbitConnection  # noqa: PLC0415

        return RabbitConnection(url, name=name)
    if url.startswith(_MEMORY):
        from paved.messaging._memory import MemoryConnection  # noqa: PLC0415

        return MemoryConnection(url, name=name)
    raise _refuse(url)


@asynccontextmanager
async def connected(url: str, *, timeout: float = 5.0) -> AsyncIterator[Transport]:
    """A short-lived connection to the broker at ``url``, for the CLI and ``python -m paved prepare``.

    Raises:
        BrokerUnreachable: nothing answers at ``url`` within ``timeout`` seconds.
    """
    connection: Callable[..., AbstractAsyncContextManager[Transport]]
    if url.startswith(_RABBITMQ):
        from paved.messaging._rabbitmq import rabbitmq_connection as connection  # noqa: PLC0415
    elif url.startswith(_NATS):
        from paved.messaging._jetstream import jetstream_connection as connection  # noqa: PLC0415
    elif url.startswith(_MEMORY):
        from paved.messaging._memory import memory_connection as connection  # noqa: PLC0415
    else:
        raise _refuse(url)
    async with connection(url, timeout=timeout) as transport:
        yield transport
