"""System tests: `paved up` as a person runs it, with real processes, real NATS and real databases."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
_runs = itertools.count()
PAVED = ROOT / ".venv" / "bin" / "paved"
# The admin identity seeds when it runs in development (services/identity/src/identity/settings.py).
DEV_ADMIN = ("admin@musiccorp.example.com", "development-admin-password")


class PavedUp:
    """One `paved up` process, with its own state folder, on free ports."""

    def __init__(self, state: Path, *args: str, root: Path = ROOT) -> None:
        self.state = state
        self.output_path = state.parent / f"{state.name}-up-{next(_runs)}.out"
        self.argv = [str(PAVED), "up", "--root", str(root), "--state-dir", str(state), *args]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PavedUp:
        with self.output_path.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def run_to_exit(self, timeout: float = 60) -> tuple[int, str]:
        """For set-ups that must fail: run until it exits."""
        result = subprocess.run(self.argv, capture_output=True, text=True, timeout=timeout, check=False)
        return result.returncode, result.stdout + result.stderr

    @property
    def output(self) -> str:
        return self.output_path.read_text(errors="replace") if self.output_path.exists() else ""

    def run_info(self) -> dict:
        return json.loads((self.state / "run.json").read_text())

    def url(self, service: str) -> str:
        return self.run_info()["services"][service]["url"]

    def pid(self, service: str) -> int:
        return int(self.run_info()["services"][service]["pid"])

    def admin_headers(self) -> dict[str, str]:
        """An admin's access token, from identity's password grant (the development admin it seeds)."""
        token = httpx.post(
            f"{self.url('identity')}/oauth/token",
            data={"grant_type": "password", "username": DEV_ADMIN[0], "password": DEV_ADMIN[1], "scope": "admin"},
            timeout=10,
        )
        token.raise_for_status()
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def wait_until_running(self, timeout: float = 90) -> PavedUp:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"paved up exited with {self.process.returncode}:\n{self.output}")
            if "stops everything" in self.output:
                return self
            time.sleep(0.1)
        raise AssertionError(f"paved up not running after {timeout}s:\n{self.output}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready within {timeout}s")


def processes_using(state: Path) -> list[str]:
    """Command lines of every process on the machine that names this state folder (nothing may be left)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if str(state) in cmdline or str(state).encode() in environ:
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def shop(state: Path) -> Iterator[PavedUp]:
    """The shop as `paved up` runs it; stopped (and checked for leftovers) after the test."""
    up = PavedUp(state, "--free-ports").start().wait_until_running()
    try:
        yield up
    finally:
        up.stop()
        assert processes_using(state) == []
