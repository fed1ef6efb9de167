"""identity's composition root: builds its paved Service and wires the use cases, the API and its errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from paved import Clock, KeysUnavailableError, Problem, Service, TokenVerifier, install_token_verifier, utc_now
from sqlalchemy.exc import SQLAlchemyError

from identity import __version__, api, token_endpoint
from identity.domain import AccountNotFoundError, EmailAlreadyRegisteredError, WeakPasswordError
from identity.passwords import Argon2Passwords
from identity.ports import PasswordHasher
from identity.settings import IdentitySettings
from identity.store import DatabaseUnitOfWork
from identity.use_cases import Authority, TokenPolicy


class PublishedKeys:
    """identity's own JWKS, read from its store: ``/me`` trusts exactly the keys it publishes.

    Its own tokens are verified by the same paved verifier as everywhere else (same rules for algorithm,
    type, issuer, audience and expiry), without a network hop to itself.
    """

    def __init__(self, authority: Authority) -> None:
        self.authority = authority

    async def fetch(self) -> Mapping[str, Any]:
        try:
            return await self.authority.published_keys()
        except SQLAlchemyError as exc:
            raise KeysUnavailableError(f"identity's signing keys cannot be read: {exc!r}") from exc


async def _weak_password(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WeakPasswordError)
    # The same shape as paved's validation problems, so clients find the field where they always do.
    field = f"body.{exc.field}"
    return Problem(
        422, "Request is not valid", f"{field}: {exc}", errors=[{"field": field, "message": str(exc)}]
    ).response(request)


def create_service(
    settings: IdentitySettings | None = None, *, passwords: PasswordHasher | None = None, clock: Clock = utc_now
) -> Service:
    """The identity service; ``paved serve`` calls this at process start, tests with their settings and hasher.

    It keeps a database and uses no broker: it is ready when its database answers.
    """
    settings = settings if settings is not None else IdentitySettings()
    service = Service(name="identity", version=__version__, settings=settings)
    authority = Authority(
        uow=DatabaseUnitOfWork(service.database),
        passwords=passwords or Argon2Passwords(),
        policy=TokenPolicy(
            issuer=settings.issuer,
            audience=settings.audience,
            access_lifetime=settings.access_token_lifetime,
            refresh_lifetime=settings.refresh_token_lifetime,
        ),
        clients=settings.clients,
        admin_email=settings.identity_admin_email,
        admin_password=settings.admin_password,
        clock=clock,
    )
    service.provide(Authority, authority)
    service.on_start(authority.prepare)  # the first signing key and the seeded admin
    # No refresh interval: a key lookup here is one query on identity's own database, which a flood of
    # made-up key ids cannot amplify into load elsewhere, and a key it just rotated in verifies at once.
    install_token_verifier(
        service.app,
        TokenVerifier(
            keys=PublishedKeys(authority), issuer=settings.issuer, audience=settings.audience, min_refresh_interval=0
        ),
    )
    service.include_router(api.router)
    service.include_router(token_endpoint.router)
    service.map_error(EmailAlreadyRegisteredError, status=409, title="Email address already registered")
    service.map_error(AccountNotFoundError, status=404, title="Account not found")
    service.app.add_exception_handler(WeakPasswordError, _weak_password)
    return service
