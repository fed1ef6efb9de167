"""Mutual TLS on a real `paved serve` process: who gets in, who is refused, and certificates renewed under load."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from paved_platform.pki import CertificateAuthority, WorkloadFiles, spiffe_id

from paved._tls import WorkloadTls

SHELF_SERVICE = """
from fastapi import APIRouter
import paved

router = APIRouter()

@router.get("/shelf", dependencies=[paved.callers("web-bff")])
async def shelf() -> dict[str, str]:
    return {"shelf": "full"}

@router.get("/stocktake", dependencies=[paved.callers(operators=True)])
async def stocktake() -> dict[str, str]:
    return {"stocktake": "done"}

@router.get("/undeclared")
async def undeclared() -> dict[str, str]:
    return {"nobody": "should see this"}

def create_service() -> paved.Service:
    service = paved.Service(name="shelf", version="0", database=False)
    service.include_router(router)
    return service
"""
HOUR = dt.timedelta(hours=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Shelf:
    """The shelf service's process, serving its workload certificate, and the authority that made it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = CertificateAuthority(folder / "pki")
        self.files = self.issue("service", "shelf")
        self.url = f"https://127.0.0.1:{free_port()}"

    def issue(
        self, kind: str, name: str, *, lifetime: dt.timedelta = HOUR, ca: CertificateAuthority | None = None
    ) -> WorkloadFiles:
        return (ca or self.ca).issue(
            spiffe_id(kind, name), WorkloadFiles(self.folder / "pki" / f"{kind}-{name}"), lifetime=lifetime
        )

    def client(self, files: WorkloadFiles | None) -> httpx.AsyncClient:
        """A client that trusts the shelf's authority and presents ``files``' certificate (none if None)."""
        if files is None:
            context = ssl.create_default_context(cafile=self.ca.directory / "ca.pem")
        else:
            context = WorkloadTls(files.cert_file, files.key_file, files.ca_file).client
        return httpx.AsyncClient(base_url=self.url, verify=context, timeout=5)


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[Shelf]:
    (tmp_path / "shelfsvc.py").write_text(textwrap.dedent(SHELF_SERVICE))
    (tmp_path / "service.toml").write_text('name = "shelf"\napp = "shelfsvc:create_service"\nport = 9999\n')
    shelf = Shelf(tmp_path)
    env = {
        **os.environ,
        "PAVED_PORT": shelf.url.rsplit(":", 1)[1],
        "PAVED_TLS_CERT_FILE": str(shelf.files.cert_file),
        "PAVED_TLS_KEY_FILE": str(shelf.files.key_file),
        "PAVED_TLS_CA_FILE": str(shelf.files.ca_file),
    }
    log = (tmp_path / "shelf.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "paved", "serve", "--service-dir", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if (
                    httpx.get(
                        f"{shelf.url}/health/ready", verify=ssl.create_default_context(cafile=shelf.files.ca_file)
                    ).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "shelf.log").read_text()) from None
                time.sleep(0.1)
        yield shelf
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


async def test_an_allowed_caller_gets_in_and_anyone_gets_health(shelf: Shelf) -> None:
    async with shelf.client(shelf.issue("service", "web-bff")) as web_bff, shelf.client(None) as probe:
        assert (await web_bff.get("/shelf")).json() == {"shelf": "full"}
        assert (await probe.get("/health/live")).status_code == 200


async def test_no_certificate_is_refused_with_a_problem(shelf: Shelf) -> None:
    async with shelf.client(None) as anonymous:
        refused = await anonymous.get("/shelf")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "certificate" in refused.json()["detail"]


async def test_a_caller_not_on_the_list_is_refused_by_name(shelf: Shelf) -> None:
    async with shelf.client(shelf.issue("service", "order")) as order:
        refused = await order.get("/shelf")
        undeclared = await order.get("/undeclared")
    assert refused.status_code == 403
    assert "spiffe://musiccorp.local/service/order may not call GET /shelf" in refused.json()["detail"]
    assert undeclared.status_code == 403, "a route that names no callers takes none"


async def test_a_route_deny_by_default_refuses_even_an_allowed_service(shelf: Shelf) -> None:
    async with (
        shelf.client(shelf.issue("service", "web-bff")) as web_bff,
        shelf.client(shelf.issue("operator", "ops")) as ops,
    ):
        assert (await web_bff.get("/undeclared")).status_code == 403
        assert (await web_bff.get("/stocktake")).status_code == 403
        assert (await ops.get("/stocktake")).json() == {"stocktake": "done"}


async def test_a_certificate_of_another_authority_fails_the_handshake(shelf: Shelf, tmp_path: Path) -> None:
    impostor_ca = CertificateAuthority(tmp_path / "impostor")
    impostor = shelf.issue("service", "web-bff", ca=impostor_ca)
    context = ssl.create_default_context(cafile=shelf.files.ca_file)
    context.load_cert_chain(impostor.cert_file, impostor.key_file)
    async with httpx.AsyncClient(base_url=shelf.url, verify=context) as client:
        with pytest.raises((httpx.NetworkError, httpx.RemoteProtocolError)):
            await client.get("/shelf")


async def test_an_expired_certificate_fails_the_handshake(shelf: Shelf) -> None:
    expired = shelf.issue("service", "web-bff", lifetime=dt.timedelta(seconds=1))
    await asyncio.sleep(1.5)
    async with shelf.client(expired) as client:
        with pytest.raises((httpx.NetworkError, httpx.RemoteProtocolError)):
            await client.get("/shelf")


async def test_a_forwarded_client_certificate_is_believed_only_from_a_trusted_proxy(shelf: Shelf) -> None:
    # The shelf trusts no proxy: a caller that claims to forward web-bff's certificate is itself.
    forged = {"X-Forwarded-Client-Cert": f"By=x;URI={spiffe_id('service', 'web-bff')}"}
    async with shelf.client(shelf.issue("service", "order")) as order:
        refused = await order.get("/shelf", headers=forged)
    assert refused.status_code == 403
    assert "service/order may not call" in refused.json()["detail"]


def _serial_presented(shelf: Shelf) -> int:
    with socket.create_connection(("127.0.0.1", int(shelf.url.rsplit(":", 1)[1]))) as raw:
        context = ssl.create_default_context(cafile=shelf.files.ca_file)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    return int(x509.load_der_x509_certificate(der).serial_number)


async def test_certificates_renewed_under_load_fail_no_request(shelf: Shelf) -> None:
    """Both sides renew while calls keep coming, on kept connections and new ones: none fails, and the
    server presents its new certificate within its reload interval, without a restart."""
    caller_files = shelf.issue("service", "web-bff")
    caller = WorkloadTls(caller_files.cert_file, caller_files.key_file, caller_files.ca_file)
    before = _serial_presented(shelf)
    failures: list[str] = []
    served = 0
    stop = asyncio.Event()

    async def load(fresh_connections: bool) -> None:
        nonlocal served
        kept = httpx.AsyncClient(base_url=shelf.url, verify=caller.client, timeout=5)
        try:
            while not stop.is_set():
                client = (
                    httpx.AsyncClient(base_url=shelf.url, verify=caller.client, timeout=5)
                    if fresh_connections
                    else kept
                )
                try:
                    answer = await client.get("/shelf")
                    if answer.status_code != 200:
                        failures.append(f"{answer.status_code}: {answer.text}")
                    served += 1
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                finally:
                    if fresh_connections:
                        await client.aclose()
        finally:
            await kept.aclose()

    workers = [asyncio.create_task(load(fresh)) for fresh in (True, True, False, False)]
    for _ in range(3):
        await asyncio.sleep(0.7)
        shelf.issue("service", "shelf")
        shelf.issue("service", "web-bff")
        caller.reload()
    await asyncio.sleep(1.5)  # the server's reload interval is 1 s
    stop.set()
    await asyncio.gather(*workers)
    assert failures == []
    assert served > 50
    assert _serial_presented(shelf) != before
