"""Parts for tests: PostgreSQL databases, migrated databases, a token issuer, the broker as a partner sees
it, and fakes of the outbox and of a handled message.

Service tests use the real parts wherever their behaviour matters, and the fakes for their own logic.
Throwaway JetStream and RabbitMQ servers are started by ``paved_platform.testing`` (the platform's
distribution).
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from paved._background import Background
from paved._context import new_id
from paved._database import Database
from paved._envelope import Envelope
from paved.messaging._consumer import Handling
from paved.messaging._contracts import Message
from paved.messaging._memory import MemoryBroker, memory_broker_for_test
from paved.messaging._outbox import MessageWriter
from paved.messaging._transport import DeadLetter, Stream

__all__ = [
    "POSTGRES_URL",
    "Background",
    "BrokerProbe",
    "FakeUnitOfWork",
    "MemoryBroker",
    "RecordingOutbox",
    "Sent",
    "TestTokens",
    "create_tables",
    "database_url_fixture",
    "eventually",
    "handling_of",
    "memory_broker_for_test",
    "migrated_database",
    "postgres_database",
    "postgres_is_reachable",
]

POSTGRES_URL = os.environ.get("PAVED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def postgres_is_reachable(admin_url: str = POSTGRES_URL) -> bool:
    import asyncpg  # noqa: PLC0415 - only the PostgreSQL tests need it

    try:
        connection = await asyncio.wait_for(asyncpg.connect(admin_url), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
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
        yield str(server.set(drivername="postgresql+asyncpg", username=name, password=None, database=name))
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
        from paved._auth import install_token_verifier  # noqa: PLC0415
        from paved._tokens import TokenVerifier  # noqa: PLC0415

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


# What every service's tests wrote for themselves: migrated databases, waiting for a condition, the
# broker as another service sees it, and fakes of the outbox and of a handled message.

T = TypeVar("T")
M = TypeVar("M", bound=Message)


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0, every: float = 0.05) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)


def _require_postgres_or_skip(reachable: bool) -> None:
    if reachable:
        return
    if os.environ.get("CI"):
        pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
    pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")


@asynccontextmanager
async def migrated_database(
    kind: Literal["sqlite", "postgres"], *, migrations: Path, name: str, folder: Path
) -> AsyncIterator[str]:
    """A service's own database with its migrations applied: a SQLite file in ``folder``, or a
    PostgreSQL database and role of its own as in production (skipped when no server answers, a
    failure in CI); yields its URL."""
    from paved.migrations import upgrade  # noqa: PLC0415 - Alembic only for the tests that migrate

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder}/{name}.db"
        await asyncio.to_thread(upgrade, migrations_dir=migrations, database_url=url)
        yield url
        return
    _require_postgres_or_skip(await postgres_is_reachable())
    async with postgres_database(f"{name.replace('-', '_')}_test") as url:
        await asyncio.to_thread(upgrade, migrations_dir=migrations, database_url=url)
        yield url


def database_url_fixture(*, migrations: Path, name: str) -> Any:
    """A pytest fixture of the service's migrated database, run on SQLite and on PostgreSQL (marked
    ``postgres``). In a conftest: ``database_url = database_url_fixture(migrations=..., name="order")``."""

    @pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
    async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        async with migrated_database(request.param, migrations=migrations, name=name, folder=tmp_path) as url:
            yield url

    return database_url


class BrokerProbe:
    """The broker as another service sees it, for a test: declares, publishes and reads messages.

    For NATS JetStream URLs (the broker the services' integration tests run on).
    """

    def __init__(self, url: str) -> None:
        self.url = url

    @asynccontextmanager
    async def _jetstream(self) -> AsyncIterator[Any]:
        import nats  # noqa: PLC0415

        connection = await nats.connect(self.url)
        try:
            yield connection.jetstream()
        finally:
            await connection.close()

    async def declare(self, *streams: Stream) -> None:
        """Declare streams as their owners would (a test standing in for a partner service)."""
        from paved.messaging._brokers import connected  # noqa: PLC0415

        async with connected(self.url) as transport:
            await transport.declare(list(streams), [])

    async def publish(
        self, message: Message | Envelope, *, subject: str | None = None, dedup_id: str | None = None
    ) -> Envelope:
        """Put ``message`` on its subject as paved's relay does; another ``dedup_id`` gets a copy past JetStream."""
        envelope = message if isinstance(message, Envelope) else message.envelope()
        if subject is None:
            subject = None if isinstance(message, Envelope) else message.message_subject
        if subject is None:
            raise ValueError(f"say on which subject to publish {envelope.type}")
        async with self._jetstream() as js:
            headers = {**envelope.headers(), "Nats-Msg-Id": dedup_id or envelope.id}
            await js.publish(subject, envelope.to_bytes(), headers=headers)
        return envelope

    async def messages_in(self, stream: str, *, correlation_ids: set[str] | None = None) -> list[Envelope]:
        """Every message in ``stream`` (of one of ``correlation_ids``, if given), in stream order."""
        from nats.js.errors import NotFoundError  # noqa: PLC0415

        async with self._jetstream() as js:
            try:
                info = await js.stream_info(stream)
            except NotFoundError:
                return []
            if info.state.messages == 0:
                return []  # an empty stream's first and last sequence are 0, which is no message
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                data = (await js.get_msg(stream, seq)).data
                envelope = Envelope.from_bytes(data or b"")
                if correlation_ids is None or envelope.correlation_id in correlation_ids:
                    found.append(envelope)
            return found

    async def all_handled(self, *, stream: str, consumer: str) -> bool:
        """Whether the durable consumer has taken and acknowledged every message of its stream."""
        async with self._jetstream() as js:
            info = await js.consumer_info(stream, consumer)
            return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    async def dead_letters(self) -> list[DeadLetter]:
        """What consumers parked, oldest first."""
        from paved.messaging._brokers import connected  # noqa: PLC0415

        async with connected(self.url) as transport:
            return await transport.dead_letters()


@dataclass(frozen=True)
class Sent:
    """One message a ``RecordingOutbox`` was given: its subject, envelope and typed message."""

    subject: str
    envelope: Envelope
    message: Message | None


class RecordingOutbox(MessageWriter):
    """An outbox for unit tests: keeps what it is given, in order, with no database and no broker."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def _write(self, session: AsyncSession, envelope: Envelope, *, subject: str, message: Message | None) -> None:
        self.sent.append(Sent(subject, envelope, message))

    def messages(self, kind: type[M]) -> list[M]:
        """The messages of type ``kind`` sent, in order."""
        return [sent.message for sent in self.sent if isinstance(sent.message, kind)]


S = TypeVar("S")


class FakeUnitOfWork(Generic[S]):
    """Transactions over one in-memory store, for use-case unit tests: a write that raises leaves the store
    as it was, as a rollback does; ``writes`` counts the ones that committed."""

    def __init__(self, store: S) -> None:
        self.store = store
        self.writes = 0

    @asynccontextmanager
    async def read(self) -> AsyncIterator[S]:
        yield self.store

    @asynccontextmanager
    async def write(self) -> AsyncIterator[S]:
        before = copy.deepcopy(self.store.__dict__)
        try:
            yield self.store
        except BaseException:
            self.store.__dict__.update(before)
            raise
        self.writes += 1


class _NoSession:
    """Stands where a handler's session stands in a unit test whose stores are fakes."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"this unit test has no database: the handler used session.{name}")


def handling_of(
    message: Message,
    *,
    outbox: MessageWriter | None = None,
    reply_to: str | None = None,
    correlation_id: str | None = None,
    session: AsyncSession | None = None,
) -> Handling:
    """What a handler is given for ``message``, for a unit test: its envelope, the outbox (a
    ``RecordingOutbox`` unless given) and a session that fails the test if used (unless given)."""
    envelope = message.envelope(reply_to=reply_to, correlation_id=correlation_id)
    return Handling(
        session=session if session is not None else cast(AsyncSession, _NoSession()),
        envelope=envelope,
        outbox=outbox if outbox is not None else RecordingOutbox(),
    )
