"""``paved up``: start the broker and the fault proxy; prepare (migrate, declare streams), start and supervise
every service.

Services call each other through the fault proxy (Envoy), so that ``paved chaos`` can delay or fail a share of
the calls to one service. Everything happens in this one foreground process, so one Ctrl-C (or ``paved down``)
stops it all, in order: services first (they drain in-flight work), then the proxy, then the broker.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from paved.manifest import ServiceManifest
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import make_url

from paved_platform import processes, rabbitmq
from paved_platform.envoy_bootstrap import MeshTls
from paved_platform.faults import FaultProxy, FaultProxyError, start_fault_proxy
from paved_platform.nats import (
    PLATFORM_USER,
    BrokerError,
    BrokerUser,
    EmbeddedNats,
    start_nats,
    with_credentials,
    write_config,
)
from paved_platform.pki import TRUST_DOMAIN, CertificateAuthority, WorkloadFiles, spiffe_id
from paved_platform.rabbitmq import RabbitMQLockError, RabbitUser
from paved_platform.state import StateDir

MAX_BACKOFF_SECONDS = 30.0
# A service that stayed up this long is healthy again: its next crash restarts it at once.
STABLE_AFTER_SECONDS = 60.0
PROXY_ID = spiffe_id("platform", "envoy")
# The operator's tools (`paved` itself, the system tests, an admin's curl) present this identity.
OPERATOR = "operator"


class SetupError(Exception):
    """Something about the set-up that a person must fix; nothing is left running."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Interrupted(Exception):
    """Ctrl-C or ``paved down`` arrived while starting."""


@dataclass
class Supervised:
    """One service process and what the supervisor knows of it."""

    manifest: ServiceManifest
    port: int
    database_url: str
    log_path: Path
    # Where the other services call it: the fault proxy's listener for it.
    proxy_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready: bool = False
    restarts: int = 0
    backoff: float = 1.0
    restart_at: float | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def url(self) -> str:
        # The edge answers browsers on plain HTTP (on loopback; an ingress terminates TLS in production).
        return f"{'http' if self.manifest.edge else 'https'}://127.0.0.1:{self.port}"

    @property
    def proxy_url(self) -> str:
        # Nothing calls the edge but browsers: it is not behind the proxy.
        return self.url if self.manifest.edge else f"https://127.0.0.1:{self.proxy_port}"

    def start(self) -> None:
        argv = [
            self.manifest.python,
            "-m",
            "paved",
            "serve",
            "--service-dir",
            str(self.manifest.directory),
        ]
        self.process = processes.spawn(argv, log_path=self.log_path, env=self.env, cwd=self.manifest.directory)
        self.started_at = time.monotonic()
        self.ready = False


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like uvicorn: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True) if url else ""


class Platform:
    """One run of the local platform."""

    def __init__(
        self,
        *,
        manifests: list[ServiceManifest],
        state: StateDir,
        console: Console,
        free_ports: bool = False,
        database_urls: dict[str, str] | None = None,
        ready_timeout: float = 60.0,
        broker_url: str | None = None,
        cert_lifetime: dt.timedelta = dt.timedelta(hours=1),
    ) -> None:
        self.manifests = manifests
        self.state = state
        self.console = console
        self.free_ports = free_ports
        self.database_urls = database_urls or {}
        self.ready_timeout = ready_timeout
        self.services: list[Supervised] = []
        # A broker of the user's (e.g. RabbitMQ); without one, paved starts and looks after its own NATS.
        self.external_broker_url = broker_url
        self.nats: EmbeddedNats | None = None
        # The embedded NATS's users, by name: one per service that uses messaging, and the platform's.
        self.broker_users: dict[str, BrokerUser] = {}
        self.proxy: FaultProxy | None = None
        self._stop = threading.Event()
        self._owns_run_file = False
        # Workload identity: the state folder's authority, and when each workload's certificate is renewed.
        self.cert_lifetime = cert_lifetime
        self._renew_at: dict[str, float] = {}
        self.authority: CertificateAuthority | None = None
        self._http = httpx.Client(timeout=0.5)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> int:
        """Start everything, supervise until asked to stop, stop everything. Returns the exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stop.set())
        try:
            self._preflight()
            self._issue_certificates()
            self._start_broker()
            self._start_proxy()
            self._write_run()
            for service in self.services:
                # Certificates may live less than the start-up takes (seconds, in tests): renewed throughout.
                self._renew_certificates(time.monotonic())
                self._prepare(service)
            for service in self.services:
                service.start()
            self._write_run()
            self._wait_until_ready()
            self._show_table()
            self._supervise()
            return 0
        except SetupError as error:
            self.console.print(f"[bold red]error:[/] {error}", highlight=False)
            return error.exit_code
        except Interrupted:
            return 0
        finally:
            self._stop_everything()

    def _preflight(self) -> None:
        """Checks that start nothing: what fails here leaves nothing behind."""
        run = self.state.read_run()
        if run and processes.is_alive(int(run["pid"])):
            raise SetupError(
                f"paved is already running from {self.state.path} (pid {run['pid']}); run `paved down` first",
                exit_code=2,
            )
        unknown = set(self.database_urls) - {m.name for m in self.manifests if m.has_database}
        if unknown:
            raise SetupError(
                f"--database-url names no service with a database: {', '.join(sorted(unknown))}",
                exit_code=2,
            )
        taken = {manifest.port for manifest in self.manifests}

        def another_free_port() -> int:
            # Each asked port is free now, but nothing holds it until its server binds: one asked twice in a
            # run (a service's and another's listener on the proxy) took a journey's web-bff calls elsewhere.
            while (port := processes.free_port()) in taken:
                pass
            taken.add(port)
            return port

        for manifest in self.manifests:
            if self.free_ports:
                port = another_free_port()
            elif _port_is_free(manifest.port):
                port = manifest.port
            else:
                raise SetupError(
                    f"port {manifest.port} for {manifest.name} is already in use "
                    f"(set in {manifest.directory / 'service.toml'}): stop what is using it, "
                    "change `port`, or run `paved up --free-ports`",
                    exit_code=2,
                )
            # A service without a database of its own (web-bff) gets none.
            database_url = (
                (self.database_urls.get(manifest.name) or self.state.sqlite_url(manifest.name))
                if manifest.has_database
                else ""
            )
            service = Supervised(
                manifest=manifest,
                port=port,
                database_url=database_url,
                log_path=self.state.log(manifest.name),
                proxy_port=another_free_port(),
            )
            files = self._workload_files(manifest.name)
            service.env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "PAVED_ENVIRONMENT": "development",
                "PAVED_HOST": "127.0.0.1",
                "PAVED_PORT": str(port),
                **({"PAVED_DATABASE_URL": database_url} if database_url else {}),
                "PAVED_TLS_CERT_FILE": str(files.cert_file),
                "PAVED_TLS_KEY_FILE": str(files.key_file),
                "PAVED_TLS_CA_FILE": str(files.ca_file),
                "PAVED_TLS_TRUSTED_PROXIES": json.dumps([PROXY_ID]),
                "PAVED_TLS_SERVE": "false" if manifest.edge else "true",
            }
            self.services.append(service)
        self._tell_services_about_each_other()

    def _workload_files(self, name: str) -> WorkloadFiles:
        return WorkloadFiles(self.state.pki / name)

    def _workloads(self) -> dict[str, str]:
        """Every workload of the run, by its folder under ``pki/``: its SPIFFE ID."""
        ids = {s.name: spiffe_id("service", s.name) for s in self.services}
        return ids | {"envoy": PROXY_ID, OPERATOR: spiffe_id("operator", "paved")}

    def _issue_certificates(self) -> None:
        """A certificate for every workload (renewed by the supervisor at two thirds of its life)."""
        self.authority = CertificateAuthority(self.state.pki)
        for folder, workload in self._workloads().items():
            self.authority.issue(workload, self._workload_files(folder), lifetime=self.cert_lifetime)
            self._renew_at[folder] = time.monotonic() + self.cert_lifetime.total_seconds() * 2 / 3
        # Health answers anyone: the supervisor's probes need only to trust the authority.
        self._http.close()
        self._http = httpx.Client(timeout=0.5, verify=ssl.create_default_context(cafile=self.state.pki / "ca.pem"))

    def _renew_certificates(self, now: float) -> None:
        assert self.authority is not None
        for folder, workload in self._workloads().items():
            if now >= self._renew_at.get(folder, 0.0):
                self.authority.issue(workload, self._workload_files(folder), lifetime=self.cert_lifetime)
                self._renew_at[folder] = now + self.cert_lifetime.total_seconds() * 2 / 3

    def _tell_services_about_each_other(self) -> None:
        """Local service discovery: ``PAVED_<NAME>_URL`` for every service, and the token issuer's keys.

        A service's settings read what it needs, e.g. a ``catalog_url`` field reads ``PAVED_CATALOG_URL``.
        Each service reaches the others through the fault proxy, and itself directly. The token issuer is
        named by its own URL wherever it is reached, as the tokens it signs name it.
        """
        issuers = [s for s in self.services if s.manifest.token_audience]
        if len(issuers) > 1:
            names = ", ".join(s.name for s in issuers)
            raise SetupError(
                f"more than one service sets token_audience in its service.toml: {names}",
                exit_code=2,
            )
        clients = {}
        for service in self.services:
            reach = {s.name: s.url if s is service else s.proxy_url for s in self.services}
            service.env |= {f"PAVED_{name.upper().replace('-', '_')}_URL": url for name, url in reach.items()}
            for issuer in issuers:
                service.env |= {
                    "PAVED_JWT_ISSUER": issuer.url,
                    "PAVED_JWT_AUDIENCE": str(issuer.manifest.token_audience),
                    "PAVED_JWKS_URL": f"{reach[issuer.name]}/.well-known/jwks.json",
                    "PAVED_TOKEN_URL": f"{reach[issuer.name]}/oauth/token",
                }
            if issuers and service.manifest.client_scopes:
                # Each service signs in as itself (OAuth2 client credentials) with a secret of its own.
                secret = self.state.secret(f"client-{service.name}")
                service.env |= {
                    "PAVED_CLIENT_ID": service.name,
                    "PAVED_CLIENT_SECRET": secret,
                }
                clients[service.name] = {
                    "secret": secret,
                    "scopes": service.manifest.client_scopes,
                }
        for issuer in issuers:
            issuer.env["PAVED_TOKEN_CLIENTS"] = json.dumps(clients)

    @property
    def broker_url(self) -> str:
        if self.external_broker_url:
            return self.external_broker_url
        assert self.nats is not None
        return self.nats.url

    def _start_broker(self, *, port: int = -1) -> None:
        self._check_interrupted()
        if self.external_broker_url:
            urls = self._lock_rabbitmq(self.external_broker_url) if self.external_broker_url.startswith("amqp") else {}
            for service in self.services:
                service.env["PAVED_BROKER_URL"] = urls.get(service.name, self.external_broker_url)
            return
        config = self._lock_broker()
        try:
            self.nats = start_nats(state_dir=self.state.path, log_path=self.state.log("nats"), port=port, config=config)
        except BrokerError as error:
            raise SetupError(str(error)) from error
        for service in self.services:
            service.env["PAVED_BROKER_URL"] = self._broker_url_of(service.name)

    def _declared_permissions(self) -> dict[str, dict[str, Any]]:
        """What each service that uses messaging may do on the broker, as its own code declares it (its
        environment's ``python -m paved permissions``), asked of all at once: each loads its code (~1 s)."""
        asked = {
            service.name: subprocess.Popen(
                [
                    service.manifest.python,
                    "-m",
                    "paved",
                    "permissions",
                    "--service-dir",
                    str(service.manifest.directory),
                ],
                env=service.env,
                cwd=service.manifest.directory,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for service in self.services
        }
        found = {}
        for name, process in asked.items():
            out, err = process.communicate()
            if process.returncode != 0:
                headline = (err.strip() or "(no output)").splitlines()[-1].removeprefix("error: ")
                raise SetupError(f"{name}: cannot tell what it may do on the broker: {headline}")
            declared = json.loads(out)
            if declared["messaging"]:
                found[name] = declared
        return found

    def _lock_rabbitmq(self, admin_url: str) -> dict[str, str]:
        """A RabbitMQ user per service, allowed what its code declares, made with ``rabbitmqctl`` on the local
        node that serves ``admin_url``; returns each service's URL with its own credentials. A broker that no
        local ``rabbitmqctl`` reaches is left as it is (every service then uses ``admin_url``), and the
        terminal says so."""
        try:
            rabbitmqctl = rabbitmq.rabbitmqctl()
        except RabbitMQLockError as error:
            self.console.print(f"[yellow]RabbitMQ not locked: {error}[/]")
            return {}
        node = rabbitmq.node_serving(admin_url, rabbitmqctl=rabbitmqctl)
        if node is None:
            self.console.print(
                f"[yellow]RabbitMQ not locked: no local node that rabbitmqctl reaches serves {_redacted(admin_url)}; "
                "every service uses that URL's user[/]"
            )
            return {}
        users = [
            RabbitUser(name, self.state.secret(f"rabbitmq-{name}"), declared["rabbitmq"])
            for name, declared in self._declared_permissions().items()
        ]
        try:
            rabbitmq.lock(users, vhost=rabbitmq.vhost_of(admin_url), ctl=[rabbitmqctl, "-n", node])
        except RabbitMQLockError as error:
            raise SetupError(f"RabbitMQ at {_redacted(admin_url)}: {error}") from error
        self.console.print(f"RabbitMQ ({node}): a user per service ({', '.join(u.name for u in users)})")
        return {user.name: rabbitmq.as_user(admin_url, user) for user in users}

    def _lock_broker(self) -> Path:
        """The embedded NATS's configuration: a user per service, allowed what its own code declares, and the
        platform's; none without credentials. Made once a run: a restarted NATS reads the same file."""
        config = self.state.path / "nats.conf"
        if self.broker_users:
            return config
        users = {PLATFORM_USER: BrokerUser(PLATFORM_USER, self.state.secret(f"nats-{PLATFORM_USER}"))}
        for name, declared in self._declared_permissions().items():
            users[name] = BrokerUser(name, self.state.secret(f"nats-{name}"), declared["nats"]["permissions"])
        self.broker_users = users
        return write_config(config, list(users.values()))

    def _broker_url_of(self, user: str) -> str:
        """The embedded NATS's URL with ``user``'s credentials; a service without messaging gets none (it
        does not connect)."""
        assert self.nats is not None
        found = self.broker_users.get(user)
        return self.nats.url if found is None else with_credentials(self.nats.url, found)

    def _start_proxy(self) -> None:
        """Envoy in front of every service, each listener on the port its callers were told in preflight."""
        self._check_interrupted()
        try:
            envoy = self._workload_files("envoy")
            self.proxy = start_fault_proxy(
                {s.name: s.url for s in self.services if not s.manifest.edge},
                log_path=self.state.log("envoy"),
                ports={s.name: s.proxy_port for s in self.services},
                tls=MeshTls(envoy.cert_file, envoy.key_file, envoy.ca_file, trust_domain=TRUST_DOMAIN),
            )
        except (FaultProxyError, ValueError) as error:
            raise SetupError(f"the fault proxy (Envoy) did not start: {error}") from error

    def _prepare(self, service: Supervised) -> None:
        self._check_interrupted()
        self.console.print(
            f"preparing [bold]{service.name}[/]: "
            + (
                f"migrations ({_redacted(service.database_url)}), streams"
                if service.database_url
                else "streams (no database)"
            ),
            highlight=False,
        )
        result = subprocess.run(
            [
                service.manifest.python,
                "-m",
                "paved",
                "prepare",
                "--service-dir",
                str(service.manifest.directory),
            ],
            env=self._preparing_env(service),
            cwd=service.manifest.directory,
            capture_output=True,
            text=True,
            start_new_session=True,
            check=False,
        )
        if result.returncode != 0:
            lines = (result.stderr.strip() or result.stdout.strip() or "(no output)").splitlines()
            headline = lines[-1].removeprefix("error: ")
            details = "".join(f"\n    {line}" for line in lines[-13:-1])
            raise SetupError(f"{service.name}: {headline}{details}")

    def _preparing_env(self, service: Supervised) -> dict[str, str]:
        # The platform declares every service's streams and consumers, and the dead letters' stream, which
        # the services' own users may only find.
        if self.external_broker_url:
            return {**service.env, "PAVED_BROKER_URL": self.external_broker_url}
        return {**service.env, "PAVED_BROKER_URL": self._broker_url_of(PLATFORM_USER)}

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console) as progress:
            tasks = {s.name: progress.add_task(f"starting {s.name}", total=1) for s in self.services}
            waiting = list(self.services)
            while waiting:
                self._check_interrupted()
                self._renew_certificates(time.monotonic())
                for service in list(waiting):
                    assert service.process is not None
                    if service.process.poll() is not None:
                        raise SetupError(
                            f"{service.name} {processes.describe_exit(service.process.returncode)} "
                            f"while starting; the end of {service.log_path}:\n{_tail(service.log_path)}"
                        )
                    if self._is_ready(service):
                        service.ready = True
                        progress.update(
                            tasks[service.name],
                            description=f"{service.name} ready",
                            completed=1,
                        )
                        waiting.remove(service)
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(s.name for s in waiting)
                    raise SetupError(f"not ready within {self.ready_timeout:.0f}s: {names}; see .paved/logs/")
                time.sleep(0.1)

    def _show_table(self) -> None:
        table = Table(title="MusicCorp on paved: running")
        for column in ("service", "url", "called via", "pid", "database"):
            table.add_column(column, overflow="fold")
        for s in self.services:
            assert s.process is not None
            table.add_row(s.name, s.url, s.proxy_url, str(s.process.pid), _redacted(s.database_url))
        if self.nats is not None:
            table.add_row("nats", self.nats.url, "", str(self.nats.process.pid), "")
        else:
            table.add_row("broker", _redacted(self.broker_url), "", "(yours)", "")
        if self.proxy is not None and self.proxy.process is not None:
            table.add_row("envoy", self.proxy.admin_url, "", str(self.proxy.process.pid), "")
        self.console.print(table)
        self.console.print(
            "Services call each other through Envoy, over mutual TLS (certificates in "
            f"{self.state.pki}): `paved chaos` delays or fails a share of the calls."
        )
        self.console.print(
            f"Logs: `paved logs SERVICE` (in {self.state.path / 'logs'}). Ctrl-C (or `paved down`) stops everything."
        )

    # -- supervision ----------------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(0.25):
            self._keep_broker_running()
            self._keep_proxy_running()
            now = time.monotonic()
            self._renew_certificates(now)
            for service in self.services:
                self._look_after(service, now)

    def _keep_broker_running(self) -> None:
        if self.nats is None or self.nats.process.poll() is None:
            return
        code = self.nats.process.returncode
        port = int(self.nats.url.rsplit(":", 1)[1])
        self.console.print(f"[yellow]nats {processes.describe_exit(code)}; restarting it on port {port}[/]")
        # Same port, same store: services reconnect by themselves and JetStream keeps its data.
        self._start_broker(port=port)
        self._write_run()

    def _keep_proxy_running(self) -> None:
        if self.proxy is None or self.proxy.process is None or self.proxy.process.poll() is None:
            return
        how = processes.describe_exit(self.proxy.process.returncode)
        self.console.print(f"[yellow]envoy {how}; restarting it on the same ports, without the faults set before[/]")
        self._start_proxy()
        self._write_run()

    def _look_after(self, service: Supervised, now: float) -> None:
        assert service.process is not None
        if service.process.poll() is None:
            if not service.ready and self._is_ready(service):
                service.ready = True
                if service.restarts:
                    self.console.print(f"[green]{service.name} is ready again[/]")
            if service.ready and now - service.started_at > STABLE_AFTER_SECONDS:
                service.backoff = 1.0
            return
        if service.restart_at is None:
            how = processes.describe_exit(service.process.returncode)
            self.console.print(
                f"[yellow]{service.name} {how}; restarting in {service.backoff:.0f}s "
                f"(restart {service.restarts + 1}); see {service.log_path}[/]",
                highlight=False,
            )
            service.restart_at = now + service.backoff
            service.backoff = min(service.backoff * 2, MAX_BACKOFF_SECONDS)
        elif now >= service.restart_at:
            service.restart_at = None
            service.restarts += 1
            service.start()
            self._write_run()

    def _is_ready(self, service: Supervised) -> bool:
        try:
            return self._http.get(f"{service.url}/health/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def _check_interrupted(self) -> None:
        if self._stop.is_set():
            raise Interrupted

    # -- bookkeeping and shutdown -----------------------------------------------------------------

    def _write_run(self) -> None:
        self._owns_run_file = True
        self.state.write_run(
            {
                "pid": os.getpid(),
                "nats": {"pid": self.nats.process.pid, "url": self.nats.url} if self.nats else None,
                "broker_url": self.broker_url if self.nats or self.external_broker_url else None,
                "proxy": (
                    {"pid": self.proxy.process.pid, "admin_url": self.proxy.admin_url}
                    if self.proxy and self.proxy.process
                    else None
                ),
                # What a tool presents to call the services as the operator (`paved`, the system tests).
                "tls": {
                    "ca_file": str(self.state.pki / "ca.pem"),
                    "operator": {
                        "cert_file": str(self._workload_files(OPERATOR).cert_file),
                        "key_file": str(self._workload_files(OPERATOR).key_file),
                    },
                },
                "services": {
                    s.name: {
                        "pid": s.process.pid if s.process else None,
                        "url": s.url,
                        "proxy_url": s.proxy_url,
                        "database": _redacted(s.database_url),
                        "log": str(s.log_path),
                        "restarts": s.restarts,
                    }
                    for s in self.services
                },
            }
        )

    def _stop_everything(self) -> None:
        running = [s for s in self.services if s.process is not None and s.process.poll() is None]
        if running or self.nats or self.proxy:
            self.console.print("stopping...")
        for service in running:
            assert service.process is not None
            service.process.terminate()
        for service in running:
            assert service.process is not None
            grace = float(service.env.get("PAVED_SHUTDOWN_GRACE_SECONDS", "10")) + 5
            processes.stop(service.process, grace=grace)
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.nats is not None:
            self.nats.stop()
            self.nats = None
        self._http.close()
        if self._owns_run_file:
            self.state.clear_run()
        if running:
            self.console.print("stopped: nothing of this run is left running")


def default_console() -> Console:
    # Not a terminal (a log file, CI): wide enough that URLs and paths are not cut.
    return Console(highlight=False, file=sys.stdout, width=None if sys.stdout.isatty() else 160)
