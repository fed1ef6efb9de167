"""System tests: `paved up` as a person runs it, with real processes, real NATS and real databases."""

from __future__ import annotations

import itertools
import json
import os
import signal
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
_runs = itertools.count()
PAVED = ROOT / ".venv" / "bin" / "paved"
# The admin identity seeds when it runs in development (services/identity/src/identity/settings.py).
DEV_ADMIN = ("admin@musiccorp.example.com", "development-admin-password")
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"  # the provider's published test card that always declines
IN_STOCK, SOLD_OUT = "ALB-00002", "ALB-00010"  # warehouse's opening stock: 17 and 0
PASSWORD = "correct horse battery staple"  # every test customer's


class PavedUp:
    """One `paved up` process, with its own state folder, on free ports."""

    def __init__(self, state: Path, *args: str, root: Path = ROOT, env: dict[str, str] | None = None) -> None:
        self.state = state
        self.env = {**os.environ, **(env or {})}
        self.output_path = state.parent / f"{state.name}-up-{next(_runs)}.out"
        self.argv = [str(PAVED), "up", "--root", str(root), "--state-dir", str(state), *args]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PavedUp:
        with self.output_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env
            )
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

    def tls(self, workload: str = "operator") -> ssl.SSLContext:
        """What a caller presents to the shop's services: the certificate `paved up` gave ``workload`` (a
        service's name, or "operator" for the operator's tools), trusting the shop's authority."""
        pki = self.state / "pki"
        context = ssl.create_default_context(cafile=pki / "ca.pem")
        context.load_cert_chain(pki / workload / "cert.pem", pki / workload / "key.pem")
        return context

    def client(self, service: str, *, as_: str = "operator", **options: Any) -> httpx.Client:
        """A client of one service (at its own port), calling as ``as_``: the operator's tools by default;
        a route of the storefront's takes calls as "web-bff" only."""
        return httpx.Client(base_url=self.url(service), verify=self.tls(as_), **({"timeout": 10} | options))

    def pid(self, service: str) -> int:
        return int(self.run_info()["services"][service]["pid"])

    def admin_headers(self) -> dict[str, str]:
        """An admin's access token, from identity's password grant (the development admin it seeds)."""
        with self.client("identity") as identity:
            token = identity.post(
                "/oauth/token",
                data={"grant_type": "password", "username": DEV_ADMIN[0], "password": DEV_ADMIN[1], "scope": "admin"},
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


@contextmanager
def whole_shop(state: Path, *, env: dict[str, str] | None = None) -> Iterator[PavedUp]:
    """Every service as `paved up` runs them, on free ports, for a module's tests; stopped after."""
    shop = PavedUp(state, "--free-ports", "--ready-timeout", "120", env=env).start()
    try:
        shop.wait_until_running(timeout=180)
        yield shop
    finally:
        shop.stop()


def wait_ready(shop: PavedUp, service: str, timeout: float = 60) -> None:
    """Until the service answers ready (health takes calls without a certificate: the shop's authority is enough)."""
    url, verify = shop.url(service), ssl.create_default_context(cafile=shop.state / "pki" / "ca.pem")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{service} ({url}) not ready within {timeout}s")


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


def eventually(check: Callable[[], Any], *, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


class Customer:
    """A person at the storefront: signed up, signed in, with a delivery address."""

    def __init__(self, bff: httpx.Client, name: str) -> None:
        self.bff = bff
        email, password = f"{name}-{uuid.uuid4().hex[:8]}@example.com", PASSWORD
        assert bff.post("/register", json={"email": email, "password": password}).status_code == 201
        tokens = bff.post("/sign-in", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
        self.headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        saved = bff.put("/account/profile", json={"display_name": name, "email": email}, headers=self.headers)
        assert saved.status_code == 201, saved.text
        address = {"name": name, "lines": ["1 Music Street"], "city": "London", "postcode": "N1 9GU", "country": "GB"}
        added = bff.post("/account/addresses", json=address, headers=self.headers)
        assert added.status_code == 201, added.text
        self.address_id = added.json()["id"]

    def check_out(self, sku: str, *, card: str = GOOD_CARD, key: str | None = None) -> httpx.Response:
        return self.bff.post(
            "/checkout",
            json={"lines": [{"sku": sku, "quantity": 1}], "delivery_address_id": self.address_id, "card_number": card},
            headers=self.headers | {"Idempotency-Key": key or uuid.uuid4().hex},
        )

    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.bff.get(f"/orders/{order_id}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def settled(self, order_id: str, *, timeout: float = 90.0) -> dict[str, Any]:
        """The order once it is dispatched, rejected or cancelled."""
        final = eventually(
            lambda: (o := self.order(order_id))["status"] in {"dispatched", "rejected", "cancelled"} and o,
            timeout=timeout,
        )
        assert final, self.order(order_id)
        return final  # type: ignore[no-any-return]
