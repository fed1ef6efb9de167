"""Real servers for tests: throwaway JetStream and RabbitMQ servers, started as processes of the test's own.

Here, not in ``paved.testing``, because starting servers needs the platform's process handling and the
``nats-server`` binary, which a service's production environment does not install.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aio_pika
import nats
from paved import new_id

from paved_platform import processes
from paved_platform.nats import start_nats


@contextmanager
def running_nats() -> Iterator[str]:
    """A JetStream server on a free port with its own store; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="paved-nats-") as folder:
        nats = start_nats(state_dir=Path(folder), log_path=Path(folder) / "nats.log")
        try:
            yield nats.url
        finally:
            nats.stop()


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RabbitNode:
    """A RabbitMQ node of the test's own (Debian's ``rabbitmq-server``), to stop and start at will.

    Its data stay in ``folder`` across restarts, as a real broker's do: durable queues and
    persistent messages survive ``restart()``.
    """

    folder: Path
    port: int
    name: str
    # Kept across restarts: the node's name and ports are part of its identity.
    dist_port: int = field(default_factory=processes.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_PID_FILE": str(self.folder / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.folder / "feature_flags"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(self.folder / "plugins"),
            "RABBITMQ_GENERATED_CONFIG_DIR": str(self.folder / "config"),
            "RABBITMQ_SCHEMA_DIR": str(self.folder / "schema"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
        }

    def start(self, *, timeout: float = 60.0) -> None:
        (self.folder / "enabled_plugins").write_text("[].\n")  # none: starts in seconds
        self.process = processes.spawn([_rabbitmq_server()], log_path=self.folder / "rabbitmq.log", env=self._env())
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = (self.folder / "rabbitmq.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"RabbitMQ did not start on port {self.port}:\n{log}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the node as its init system would (SIGTERM: ``rabbitmqctl stop``)."""
        if self.process is not None:
            processes.stop(self.process, grace=30)
            self.process = None

    def rabbitmqctl(self) -> tuple[list[str], dict[str, str]]:
        """``rabbitmqctl``'s command line for this node, and the environment it runs in."""
        return [_rabbitmqctl(), "-n", self.name], self._env()

    def queues(self) -> dict[str, tuple[int, int]]:
        """Each queue's (ready, unacknowledged) messages, as ``rabbitmqctl`` reports them."""
        listed = subprocess.run(
            [
                _rabbitmqctl(),
                "-n",
                self.name,
                "-q",
                "list_queues",
                "name",
                "messages_ready",
                "messages_unacknowledged",
            ],
            env=self._env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found = {}
        for line in listed.splitlines():
            name, ready, unacked = line.split("\t")
            if ready.isdigit():  # not the header line
                found[name] = (int(ready), int(unacked))
        return found


def _rabbitmq_binary(name: str) -> str:
    # Debian's /usr/sbin wrappers switch to the rabbitmq user, who may not write the test's folder.
    for candidate in (Path("/usr/lib/rabbitmq/bin") / name, shutil.which(name)):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise RuntimeError(f"{name} is not installed: the RabbitMQ tests need Debian's rabbitmq-server package")


def _rabbitmq_server() -> str:
    return _rabbitmq_binary("rabbitmq-server")


def _rabbitmqctl() -> str:
    return _rabbitmq_binary("rabbitmqctl")


@contextmanager
def running_rabbitmq() -> Iterator[RabbitNode]:
    """A RabbitMQ node on free ports with its own data, stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix="paved-rabbitmq-") as folder:
        node = RabbitNode(
            folder=Path(folder),
            port=processes.free_port(),
            name=f"paved-{new_id()[:8]}@localhost",
        )
        node.start()
        try:
            yield node
        finally:
            node.stop()


@dataclass
class TestBroker:
    """A broker of the test's own, of either kind, that the test may stop and start again."""

    __test__ = False  # not a test class, whatever its name

    kind: Literal["nats", "rabbitmq"]
    url: str
    stop: Callable[[], None]
    start: Callable[[], None]
    _backlog: Callable[[str, str], Awaitable[tuple[int, int]]]

    async def backlog(self, *, stream: str, consumer: str) -> tuple[int, int]:
        """(waiting, delivered and not yet acked) messages of a durable consumer."""
        return await self._backlog(stream, consumer)


@contextmanager
def throwaway_broker(kind: Literal["nats", "rabbitmq"], *, folder: Path) -> Iterator[TestBroker]:
    """A JetStream server (its store in ``folder``) or a RabbitMQ node of the test's own, stopped after."""
    if kind == "rabbitmq":
        with running_rabbitmq() as node:
            yield TestBroker("rabbitmq", node.url, node.stop, node.start, _rabbitmq_backlog(node))
        return
    server = start_nats(state_dir=folder / "broker", log_path=folder / "nats.log")
    port = int(server.url.rsplit(":", 1)[1])
    current = [server]

    def start() -> None:
        current[0] = start_nats(state_dir=folder / "broker", log_path=folder / "nats.log", port=port)

    async def backlog(stream: str, consumer: str) -> tuple[int, int]:
        client = await nats.connect(server.url)
        try:
            info = await client.jetstream().consumer_info(stream, consumer)
        finally:
            await client.close()
        return info.num_pending or 0, info.num_ack_pending or 0

    try:
        yield TestBroker("nats", server.url, lambda: current[0].stop(), start, backlog)
    finally:
        current[0].stop()


def _rabbitmq_backlog(node: RabbitNode) -> Callable[[str, str], Awaitable[tuple[int, int]]]:
    async def backlog(_stream: str, consumer: str) -> tuple[int, int]:
        # Ready messages exactly, from the queue itself; unacked ones only from rabbitmqctl, whose
        # figures for a quorum queue lag by a few seconds.
        connection = await aio_pika.connect(node.url)
        async with connection:
            queue = await (await connection.channel()).declare_queue(consumer, passive=True)
            ready = queue.declaration_result.message_count or 0
        _, unacked = (await asyncio.to_thread(node.queues)).get(consumer, (0, 0))
        return ready, unacked

    return backlog
