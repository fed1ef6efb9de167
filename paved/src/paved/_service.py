"""One service: its HTTP app, and the database, broker and background work it opts into, run together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Annotated, Any, TypeVar

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import JSONResponse

from paved._background import Background, Run
from paved._callers import callers, check_caller
from paved._client import client_credentials, service_client
from paved._database import Database
from paved._metrics import ServiceMetrics
from paved._middleware import RequestContextMiddleware
from paved._problems import PROBLEM_JSON, install_problem_handlers, map_error
from paved._registry import Registry
from paved._settings import ServiceSettings
from paved._tls import WorkloadTls
from paved.messaging._brokers import connection_for
from paved.messaging._outbox import Outbox
from paved.messaging._runtime import Messaging
from paved.messaging._tables import MessagingTables
from paved.messaging._transport import Connection

log = structlog.get_logger(logger_name="paved.service")

T = TypeVar("T")


class Service:
    """The composition of one service, built by its ``create_service()`` at process start.

    Nothing connects when it is built: the database, the broker and the background tasks start in the
    app's lifespan, and stop after in-flight requests and message handlers have finished. A service
    opts into what it uses, and is ready when those answer: a database (``database=True``, the
    default), a broker (``messaging=``, its outbox and inbox tables), neither (a backend-for-frontend).

    Args:
        name: the service's name, as in its ``service.toml``.
        version: the running version, reported in logs, metrics and OpenAPI.
        settings: typed settings; read from the environment when omitted.
        database: whether it keeps a database of its own (``settings.database_url``).
        messaging: the service's outbox and inbox tables (``paved.messaging.messaging_tables``),
            if it sends or consumes messages; they live in its database.
    """

    def __init__(
        self,
        *,
        name: str,
        version: str,
        settings: ServiceSettings | None = None,
        database: bool = True,
        messaging: MessagingTables | None = None,
    ) -> None:
        if messaging is not None and not database:
            raise ValueError(f"{name}: messaging keeps its outbox and inbox in the service's database")
        self.name = name
        self.version = version
        self.settings = settings if settings is not None else ServiceSettings()
        self.metrics = ServiceMetrics(service=name, version=version)
        self.registry = Registry()
        # This workload's certificate (mutual TLS), when its settings name one; reloaded while it runs.
        self.tls = (
            WorkloadTls(self.settings.tls_cert_file, self.settings.tls_key_file, self.settings.tls_ca_file)
            if self.settings.tls_cert_file and self.settings.tls_key_file and self.settings.tls_ca_file
            else None
        )
        if self.tls is None and self.settings.environment == "production":
            # Plain HTTP, open to any process that reaches the port, is for development and tests only.
            raise ValueError(
                f"{name}: in production a service serves mutual TLS: set PAVED_TLS_CERT_FILE, _KEY_FILE and _CA_FILE"
            )
        self._database = Database(self.settings.database_url) if database else None
        # This service's own access token for calls to others, when it has client credentials.
        self.credentials = client_credentials(self.settings, tls=self.tls)
        self._connection: Connection | None = None
        self._messaging = (
            Messaging(messaging, database=self.database, service=name, metrics=self.metrics) if messaging else None
        )
        self._start_steps: list[Callable[[], Awaitable[None]]] = []
        self._stop_steps: list[Callable[[], Awaitable[None]]] = []
        self._background: list[tuple[str, Run, float]] = []
        if self.tls is not None:
            self._background.append(("certificate-reload", self.tls.watch, 1.0))
        # No redirect to the path with(out) its trailing slash: an API answers what was asked, and an id that
        # ends in an encoded "/" would otherwise get a 307 instead of a problem (a hypothesis test found one).
        # Every route passes check_caller: with mutual TLS on, only the callers its allow-list names get in.
        self.app = FastAPI(
            title=name,
            version=version,
            lifespan=self._lifespan,
            redirect_slashes=False,
            dependencies=[Depends(check_caller)],
        )
        self.app.state.paved = self
        self.app.add_middleware(
            RequestContextMiddleware,
            metrics=self.metrics,
            deadline_seconds=self.settings.request_deadline_seconds,
            max_in_flight=self.settings.max_in_flight,
            queue_seconds=self.settings.queue_seconds,
            trusted_proxies=self.settings.tls_trusted_proxies,
        )
        install_problem_handlers(self.app)
        self.app.include_router(self._health_router())
        self.app.add_route("/metrics", self.metrics.endpoint, include_in_schema=False)

    @property
    def database(self) -> Database:
        """The service's own database; only for a service built with ``database=True``."""
        if self._database is None:
            raise RuntimeError(f"{self.name} was built without a database (database=False)")
        return self._database

    @property
    def messaging(self) -> Messaging:
        """The service's streams, consumers, outbox and requests; only for one built with ``messaging=``."""
        if self._messaging is None:
            raise RuntimeError(f"{self.name} was built without messaging tables, so it has no broker or outbox")
        return self._messaging

    @property
    def uses_messaging(self) -> bool:
        return self._messaging is not None

    def provide(self, kind: type[T], value: T) -> T:
        """Register what endpoints ask for by type (``Annotated[T, paved.Provided(T)]``): a use case."""
        return self.registry.provide(kind, value)

    def background(self, name: str, run: Run, *, grace: float = 5.0) -> None:
        """Run ``run(stopping)`` while the service runs: started after the start steps, before the first
        request; at shutdown ``stopping`` is set and the task gets ``grace`` seconds to finish the work
        in hand before it is cancelled, before the broker and database stop. For a poll, pass
        ``paved.poller(step, every=...)``."""
        if any(known == name for known, _, _ in self._background):
            raise ValueError(f"{self.name} already runs a background task named {name!r}")
        self._background.append((name, run, grace))

    def client(
        self,
        upstream: str,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.AsyncClient:
        """The client of one upstream for the process's life, closed when the service stops: its policy is
        ``settings.upstreams[upstream]`` (the defaults if not set), its counters go to ``/metrics``.

        Args:
            upstream: the other service's name, as settings, logs, metrics and problems name it.
            base_url: where it answers.
            auth: how calls prove who makes them, e.g. ``service.credentials``.
            transport: replaces the network, for tests.
        """
        client = service_client(
            base_url,
            upstream=upstream,
            policy=self.settings.upstreams.get(upstream),
            auth=auth,
            transport=transport,
            metrics=self.metrics.upstreams,
            tls=self.tls,
        )
        self.on_stop(client.aclose)
        return client

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
        """Which of the dependencies the service uses answer now."""
        checks = {}
        if self._database is not None:
            checks["database"] = await self._database.ping()
        if self._messaging is not None:
            checks["broker"] = self._connection is not None and await self._connection.ping(timeout=1.0)
        return checks

    def _health_router(self) -> APIRouter:
        # Open to probes that present no certificate (a kubelet's): they learn only that the service is up.
        router = APIRouter(prefix="/health", tags=["health"], dependencies=[callers(public=True)])

        @router.get("/live", summary="The process is up and serving")
        async def live() -> dict[str, str]:
            return {"status": "live"}

        @router.get("/ready", summary="The service can do its work: the database and broker it uses answer")
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
        """Run the service's database, broker and background work for the block (what the lifespan does)."""
        return self._lifespan(self.app)

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if self._database is not None:
                await self._database.start()
                stack.push_async_callback(self._database.stop)
            background = Background()
            if self._messaging is not None:
                self._connection = connection = connection_for(self.settings.broker_url, name=self.name)
                await connection.start()
                stack.push_async_callback(self._disconnect)
                await self._messaging.declare(connection.transport)
                self._messaging.run_on(background, connection.transport)
            for name, run, grace in self._background:
                background.add(name, run, grace=grace)
            for step in self._start_steps:
                await step()
            stack.push_async_callback(self._run_stop_steps)
            background.start()
            stack.push_async_callback(background.stop)
            yield

    async def _disconnect(self) -> None:
        # Drains: what was sent reaches the broker. A broker that is gone cannot be drained, and must not
        # keep the service from stopping.
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("broker connection not closed cleanly", error=f"{type(exc).__name__}: {exc}")

    async def _run_stop_steps(self) -> None:
        for step in reversed(self._stop_steps):
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - one step's failure must not keep the others from running
                log.warning("stop step failed", step=getattr(step, "__qualname__", repr(step)), error=repr(exc))


async def _current_database(request: Request) -> Database:
    service: Service = request.app.state.paved
    return service.database


CurrentDatabase = Annotated[Database, Depends(_current_database)]
"""The serving service's database, for an endpoint's parameters."""


async def _current_outbox(request: Request) -> Outbox:
    service: Service = request.app.state.paved
    return service.messaging.outbox


CurrentOutbox = Annotated[Outbox, Depends(_current_outbox)]
"""The serving service's outbox: messages written in the endpoint's transaction."""
