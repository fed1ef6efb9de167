"""Real parts for tests: throwaway PostgreSQL databases, tables without migrations, and a token issuer.

Service tests use these instead of fakes wherever the behaviour of the real part matters. Throwaway
JetStream and RabbitMQ servers are started by ``paved_platform.testing`` (the platform's distribution).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import MetaData, make_url

from paved.context import new_id
from paved.database import Database

POSTGRES_URL = os.environ.get("PAVED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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
