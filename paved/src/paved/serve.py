"""What runs inside one service's environment: ``python -m paved migrate``, ``prepare`` (the migrations,
then the streams), ``permissions`` (what its broker user may do) and ``serve``."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import make_url

from paved._database import Database
from paved._logs import configure_logging
from paved._service import Service
from paved._settings import ServiceSettings
from paved._tls import IdentifyingProtocol
from paved.manifest import MANIFEST, load_manifest
from paved.migrations import upgrade


class CannotReachDatabase(Exception):
    """The database URL does not lead to a database that answers."""


class CannotReachBroker(Exception):
    """The broker URL does not lead to a broker that answers."""


def load_service(service_dir: Path) -> Service:
    """Build the service named by ``service_dir/service.toml`` through its ``app`` factory."""
    manifest = load_manifest(service_dir / MANIFEST)
    module_name, _, factory_name = manifest.app.partition(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    service = factory()
    if not isinstance(service, Service):
        raise TypeError(f"{manifest.app} returned {type(service).__name__}, not a paved Service")
    return service


async def _check_reachable(url: str) -> None:
    database = Database(url)
    await database.start()
    try:
        async with database.engine.connect():
            pass
    except Exception as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise CannotReachDatabase(f"cannot reach the database at {shown}: {exc}") from exc
    finally:
        await database.stop()


def migrate(service_dir: Path) -> None:
    """Apply the service's migrations to the database in ``PAVED_DATABASE_URL``; a service with no
    ``migrations/`` folder keeps no database (``Service(database=False)``), and has nothing to migrate."""
    if not (service_dir / "migrations").is_dir():
        return
    url = ServiceSettings().database_url
    asyncio.run(_check_reachable(url))
    upgrade(migrations_dir=service_dir / "migrations", database_url=url)


def declare(service_dir: Path) -> None:
    """Create or update the streams and consumers the service's code declares, on ``PAVED_BROKER_URL``.

    ``paved up`` runs it after the migrations and before starting any service, so that every stream
    exists before anyone publishes to it, and every consumer whose stream exists (a consumer of a stream
    whose owner is prepared later is made when it starts). A service declares its own again at start,
    which then changes nothing, so that it also runs on its own.
    """
    service = load_service(service_dir)
    if service.uses_messaging:
        asyncio.run(_declare(service))


async def _declare(service: Service) -> None:
    from paved.messaging._brokers import connected  # noqa: PLC0415 - only with messaging
    from paved.messaging._transport import BrokerUnreachable  # noqa: PLC0415

    try:
        async with connected(service.settings.broker_url) as transport:
            await service.messaging.declare(transport)
    except BrokerUnreachable as exc:
        raise CannotReachBroker(str(exc)) from exc


def permissions(service_dir: Path) -> dict[str, Any]:
    """What the service's broker user may do, from its messaging declarations: ``paved up`` makes the
    user from it (a service without messaging gets none)."""
    service = load_service(service_dir)
    if not service.uses_messaging:
        return {"service": service.name, "messaging": False}
    from paved.messaging._permissions import (  # noqa: PLC0415 - only with messaging
        inbox_prefix,
        nats_permissions,
        rabbitmq_permissions,
    )

    access = service.messaging.access()
    return {
        "service": service.name,
        "messaging": True,
        "declared": dataclasses.asdict(access),
        "nats": {"inbox_prefix": inbox_prefix(service.name), "permissions": nats_permissions(access)},
        "rabbitmq": rabbitmq_permissions(access),
    }


def serve(service_dir: Path) -> None:
    """Run the service's HTTP app (and through its lifespan, database and broker) until SIGTERM."""
    service = load_service(service_dir)
    settings = service.settings
    configure_logging(service=service.name, version=service.version, level=settings.log_level)
    config = uvicorn.Config(
        service.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # paved's middleware logs each request, with its ids
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        # Longer than paved's clients keep an idle connection (httpx: 5 s), so that a server never closes
        # one just as a client reuses it (uvicorn's default is also 5 s: the race failed a call in the bench).
        timeout_keep_alive=30,
        lifespan="on",
        **_mutual_tls(service),
    )
    uvicorn.Server(config).run()


def _mutual_tls(service: Service) -> dict[str, Any]:
    """uvicorn's settings for serving the service's workload certificate: its own live context (reloaded in
    place when the certificate is renewed), and a protocol that tells the app whose certificate came."""
    tls = service.tls
    if tls is None or not service.settings.tls_serve:
        return {}
    return {"ssl_context_factory": lambda _config, _default: tls.server, "http": IdentifyingProtocol}
