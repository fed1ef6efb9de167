"""Services run for real, as `paved up` runs them: each its own process, database and port.

The payment-provider is "someone else's" system, so the payment service's tests do not import it: they
run it from its folder (``services/payment-provider``) with this environment's interpreter (its
dependencies are paved's web stack, which this environment has) and talk to it over HTTP, as the payment
service does in production. The payment service itself is run this way where a test kills it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SERVICES = Path(__file__).resolve().parents[3]
PROVIDER_DIR = SERVICES / "payment-provider"
PAYMENT_DIR = SERVICES / "payment"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """One service's process (``paved serve``): started, stopped or killed, and started again on the same port."""

    def __init__(self, service_dir: Path, folder: Path, *, env: dict[str, str]) -> None:
        if not (service_dir / "service.toml").exists():
            raise RuntimeError(f"no service at {service_dir}: these tests run it from there")
        self.service_dir = service_dir
        self.port = free_port()
        self.log = folder / f"{service_dir.name}.log"
        self.env = env
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        own = {key: value for key, value in os.environ.items() if not key.startswith("PAVED_")}
        return own | self.env | {"PAVED_PORT": str(self.port), "PAVED_SHUTDOWN_GRACE_SECONDS": "1"} | extra

    def paved(self, command: str) -> None:
        """Run a ``paved`` command for the service (e.g. ``migrate``) to its end."""
        argv = [sys.executable, "-m", "paved", command, "--service-dir", str(self.service_dir)]
        subprocess.run(argv, env=self._env({}), check=True, capture_output=True)

    def start(self, **env: object) -> None:
        """Start serving with the environment, plus ``env`` (variables by name); wait until it answers."""
        assert self._process is None, "already running"
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "paved", "serve", "--service-dir", str(self.service_dir)],
                env=self._env({name: str(value) for name, value in env.items()}),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.service_dir.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.service_dir.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL: what it holds is cut off, as when a service goes away."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL: the process dies where it is, with no chance to finish or clean up anything."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None


class ProviderProcess(ServiceProcess):
    """The payment-provider on a SQLite database of its own, started with a behaviour."""

    def __init__(self, folder: Path, *, broker_url: str) -> None:
        self.database = folder / "provider.db"
        pythonpath = os.pathsep.join(filter(None, [str(PROVIDER_DIR / "src"), os.environ.get("PYTHONPATH")]))
        env = {
            "PYTHONPATH": pythonpath,
            "PAVED_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "PAVED_BROKER_URL": broker_url,
        }
        super().__init__(PROVIDER_DIR, folder, env=env)

    def migrate(self, *, template: Path | None = None) -> None:
        """Create its database: a copy of ``template`` (already migrated), or by running its migrations."""
        if template is not None:
            shutil.copy(template, self.database)
        else:
            self.paved("migrate")

    def start(self, **behaviour: object) -> None:
        """Start it with ``behaviour`` (e.g. ``error_rate=1.0`` for PAVED_PROVIDER_ERROR_RATE)."""
        super().start(**{f"PAVED_PROVIDER_{name.upper()}": value for name, value in behaviour.items()})

    def restart(self, **behaviour: object) -> None:
        self.stop()
        self.start(**behaviour)

    def charges(self, reference: str) -> list[dict[str, object]]:
        """What it charged under ``reference``, as it says itself."""
        response = httpx.get(f"{self.url}/charges", params={"reference": reference}, timeout=5)
        response.raise_for_status()
        return response.json()["items"]
