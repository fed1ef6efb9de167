"""One service: its HTTP app, broker connection, database and settings, started and stopped together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import JSONResponse

from paved.client import client_credentials
from paved.database import Database
from paved.messaging.outbox import Outbox
from paved.messaging.runtime import Messaging
from paved.messaging.tables import MessagingTables
from paved.messaging.transport import faststream_broker, transport_of
from paved.metrics import ServiceMetrics
from paved.middleware import RequestContextMiddleware
from paved.problems import PROBLEM_JSON, install_problem_handlers, map_error
from paved.settings import ServiceSettings

log = structlog.get_logger(logger_name="paved.service")


class Service:
    """The composition of one service, built by its ``create_service()`` at process start.

    Nothing connects when it is built: the database and the broker start in the app's lifespan,
    and stop after in-flight requests and message handlers have finished.

    Args:
        name: the service's name, as in its ``service.toml``.
        version: the running version, reported in logs, metrics and OpenAPI.
        settings: typed settings; read from the environment when omitted.
        messaging: the service's outbox and inbox tables (``paved.messaging.messaging_tables``),
            if it sends or consumes messages.
    """

    def __init__(
        self,
        *,
        name: str,
        version: str,
        settings: ServiceSettings | None = None,
        messaging: MessagingTables | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.settings = settings if settings is not None else ServiceSettings()
        self.metrics = ServiceMetrics(service=name, version=version)
        self.database = Database(self.settings.database_url)
        # This service's own access token for calls to others, when it has client credentials.
        self.credentials = client_credentials(self.settings)
        # FastStream's NatsBroker or RabbitBroker, by the URL's scheme: a service's own FastStream
        # subscribers may use it too; paved's messaging runs over its connection.
        self.broker = faststream_broker(self.settings.broker_url, name=name)
        self.messaging = Messaging(messaging, database=self.database) if messaging else None
        self._start_steps: list[Callable[[], Awaitable[None]]] = []
        self._stop_steps: list[Callable[[], Awaitable[None]]] = []
        # No redirect to the path with(out) its trailing slash: an API answers what was asked, and an id that
        # ends in an encoded "/" would otherwise get a 307 instead of a problem (a hypothesis test found one).
        self.app = FastAPI(title=name, version=version, lifespan=self._lifespan, redirect_slashes=False)
        self.app.state.paved = self
        self.app.add_middleware(RequestContextMiddleware, metrics=self.metrics)
        install_problem_handlers(self.app)
        self.app.include_router(self._health_router())
        self.app.add_route("/metrics", self.metrics.endpoint, include_in_schema=False)

    def include_router(self, router: APIRouter, **kwargs: Any) -> None:
        self.app.include_router(router, **kwargs)

    def on_start(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` once the database and broker are up, before the first request is served.

        For a service's own idempotent set-up (e.g. a signing key made on first start); every
        replica runs it, so it must tolerate running twice at once.
        """
        self._start_steps.append(step)

    def on_stop(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` when the service stops, after requests and message handlers have finished and
        before the broker and database stop: for what the service keeps open, e.g. its HTTP clients.
        Steps run in the reverse order of their registration; one that fails is logged, and the rest run."""
        self._stop_steps.append(step)

    def map_error(self, error_type: type[Exception], *, status: int, title: str) -> None:
        """Answer a domain error with a problem response of ``status``."""
        map_error(self.app, error_type, status=status, title=title)

    async def is_ready(self) -> dict[str, bool]:
        """Which of the service's dependencies answer now."""
        return {
            "database": await self.database.ping(),
            "broker": await self.broker.ping(timeout=1.0),
        }

    def _health_router(self) -> APIRouter:
        router = APIRouter(prefix="/health", tags=["health"])

        @router.get("/live", summary="The process is up and serving")
        async def live() -> dict[str, str]:
            return {"status": "live"}

        @router.get("/ready", summary="The service can do its work: its database and broker answer")
        async def ready() -> JSONResponse:
            checks = await self.is_ready()
            body = {name: "up" if ok else "down" for name, ok in checks.items()}
            if all(checks.values()):
                return JSONResponse({"status": "ready", "checks": body})
            down = ", ".join(name for name, ok in checks.items() if not ok)
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": f"not ready: {down} not answering",
                    "checks": body,
                },
                status_code=503,
                media_type=PROBLEM_JSON,
            )

        return router

    def running(self) -> AbstractAsyncContextManager[None]:
        """Start the service's database and broker for the block (what the ASGI lifespan does)."""
        return self._lifespan(self.app)

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        await self.database.start()
        try:
            await self.broker.start()
            try:
                if self.messaging is not None:
                    await self.messaging.start(transport_of(self.broker))
                try:
                    for step in self._start_steps:
                        await step()
                    yield
                finally:
                    if self.messaging is not None:
                        await self.messaging.stop()
                    await self._run_stop_steps()
            finally:
                # Drains subscriptions: handlers in flight finish and ack; nothing new starts. A broker
                # that is gone cannot be drained, and must not keep the service from stopping.
                try:
                    await self.broker.stop()
                except Exception as exc:  # noqa: BLE001
                    log.warning("broker connection not drained cleanly", error=f"{type(exc).__name__}: {exc}")
        finally:
            await self.database.stop()

    async def _run_stop_steps(self) -> None:
        for step in reversed(self._stop_steps):
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - one step's failure must not keep the others from running
                log.warning("stop step failed", step=getattr(step, "__qualname__", repr(step)), error=repr(exc))


async def _current_database(request: Request) -> Database:
    return request.app.state.paved.database  # type: ignore[no-any-return]


CurrentDatabase = Annotated[Database, Depends(_current_database)]
"""The serving service's database, for an endpoint's parameters."""


async def _current_outbox(request: Request) -> Outbox:
    messaging = request.app.state.paved.messaging
    if messaging is None:
        raise RuntimeError("this service was built without messaging tables, so it has no outbox")
    return messaging.outbox  # type: ignore[no-any-return]


CurrentOutbox = Annotated[Outbox, Depends(_current_outbox)]
"""The serving service's outbox: messages written in the endpoint's transaction."""
