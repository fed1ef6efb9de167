"""Real parts for tests: throwaway JetStream and RabbitMQ servers, and throwaway PostgreSQL databases.

Service tests use these instead of fakes wherever the behaviour of the real part matters.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import MetaData, make_url

from paved.context import new_id
from paved.database import Database
from paved.platform import processes
from paved.platform.nats import start_nats

POSTGRES_URL = os.environ.get("PAVED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def running_nats() -> Iterator[str]:
    """A JetStream server on a free port with its own store; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="paved-nats-") as folder:
        nats = start_nats(state_dir=Path(folder), log_path=Path(folder) / "nats.log")
        try:
            yield nats.url
        finally:
            nats.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    dist_port: int = field(default_factory=_free_port)
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

    def queues(self) -> dict[str, tuple[int, int]]:
        """Each queue's (ready, unacknowledged) messages, as ``rabbitmqctl`` reports them."""
        listed = subprocess.run(
            [_rabbitmqctl(), "-n", self.name, "-q", "list_queues", "name", "messages_ready", "messages_unacknowledged"],
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
        node = RabbitNode(folder=Path(folder), port=_free_port(), name=f"paved-{new_id()[:8]}@localhost")
        node.start()
        try:
            yield node
        finally:
            node.stop()


async def postgres_is_reachable(admin_url: str = POSTGRES_URL) -> bool:
    import asyncpg  # noqa: PLC0415 - only the PostgreSQL tests need it

    try:
        connection = await asyncio.wait_for(asyncpg.connect(admin_url), timeout=3)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


@asynccontextmanager
async def postgres_database(prefix: str, admin_url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """A new database owned by a new role, as in production (one of each per service); dropped after.

    Yields the SQLAlchemy URL the service would get: that role, that database, nothing else.
    """
    import asyncpg  # noqa: PLC0415

    name = f"{prefix}_{new_id()[:10]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE ROLE "{name}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
        # Hide the database: only its own role may connect.
        await admin.execute(f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC')
        server = make_url(admin_url)
        yield str(
            server.set(drivername="postgresql+asyncpg", username=name, password=None, database=name)
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


async def create_tables(database_url: str, metadata: MetaData) -> None:
    """Create ``metadata``'s tables, for tests and benchmarks that need no migrations."""
    database = Database(database_url)
    await database.start()
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    finally:
        await database.stop()


class TestTokens:
    """A token issuer of the test's own: real ES256 access tokens, verified by a service's real verifier.

    ``install(service.app)`` makes the service verify against these keys instead of fetching identity's;
    ``bearer(subject, "customer")`` gives the ``Authorization`` header of a token for that subject.
    """

    __test__ = False  # a helper, not a test class

    issuer = "http://identity.test"
    audience = "musiccorp"

    def __init__(self) -> None:
        from joserfc.jwk import ECKey  # noqa: PLC0415 - only tests of services that verify tokens need it

        self._key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)

    async def fetch(self) -> dict[str, object]:
        """The key set, as identity's JWKS endpoint would serve it (the verifier's ``KeySource``)."""
        return {"keys": [self._key.as_dict(private=False)]}

    def install(self, app: FastAPI) -> None:
        from paved.auth import install_token_verifier  # noqa: PLC0415
        from paved.tokens import TokenVerifier  # noqa: PLC0415

        install_token_verifier(app, TokenVerifier(keys=self, issuer=self.issuer, audience=self.audience))

    def token(self, subject: str, *scopes: str, client: bool = False, lifetime: int = 600) -> str:
        from joserfc import jwt  # noqa: PLC0415

        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + lifetime,
            "jti": new_id(),
        }
        if client:
            claims["client_id"] = subject
        header = {"alg": "ES256", "kid": self._key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=["ES256"])

    def bearer(self, subject: str, *scopes: str, client: bool = False) -> dict[str, str]:
        """``{"Authorization": "Bearer …"}`` for a token of ``subject`` granting ``scopes``."""
        return {"Authorization": f"Bearer {self.token(subject, *scopes, client=client)}"}
