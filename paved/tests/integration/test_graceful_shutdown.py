from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from paved_platform.testing import running_nats

pytestmark = pytest.mark.nats

SLOW_SERVICE = """
import asyncio
from fastapi import APIRouter
from paved import Service

router = APIRouter()

@router.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(1.5)
    return {"finished": "yes"}

def create_service() -> Service:
    service = Service(name="slow", version="0")
    service.include_router(router)
    return service
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    """On SIGTERM, `paved serve` finishes the request in flight, then exits cleanly."""
    (tmp_path / "slowsvc.py").write_text(textwrap.dedent(SLOW_SERVICE))
    (tmp_path / "service.toml").write_text('name = "slow"\napp = "slowsvc:create_service"\nport = 9999\n')
    port = free_port()
    with running_nats() as broker_url:
        env = {
            **os.environ,
            "PAVED_PORT": str(port),
            "PAVED_BROKER_URL": broker_url,
            "PAVED_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/slow.db",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "paved", "serve", "--service-dir", str(tmp_path)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/health/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            result: dict[str, httpx.Response] = {}
            request = threading.Thread(target=lambda: result.update(r=httpx.get(f"{base}/slow", timeout=10)))
            request.start()
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            request.join()
            code = server.wait(timeout=15)
        finally:
            server.kill()
        output = server.stdout.read().decode() if server.stdout else ""
    assert result["r"].status_code == 200, output
    assert result["r"].json() == {"finished": "yes"}
    # uvicorn re-raises the signal once shut down, so the parent sees "terminated by SIGTERM".
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert '"event": "request"' in output, "requests are logged as JSON lines"
