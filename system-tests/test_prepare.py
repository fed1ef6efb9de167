"""`paved prepare`: what `paved up` runs in each service's environment before starting any service."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from paved_platform.testing import running_nats

from conftest import PAVED, ROOT

CATALOG = ROOT / "services" / "catalog"


def prepare(tmp_path: Path, broker_url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "PAVED_ENVIRONMENT": "development",
        "PAVED_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/catalog.db",
        "PAVED_BROKER_URL": broker_url,
    }
    return subprocess.run(
        [CATALOG / ".venv" / "bin" / "python", "-m", "paved", "prepare", "--service-dir", CATALOG],
        env=env,
        cwd=CATALOG,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_prepare_migrates_and_declares_the_streams_before_the_service_runs(tmp_path: Path) -> None:
    with running_nats() as url:
        result = prepare(tmp_path, url)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "catalog.db").stat().st_size > 0
        listed = subprocess.run(
            [PAVED, "streams", "--broker-url", url], capture_output=True, text=True, timeout=60, check=False
        )
    assert listed.returncode == 0, listed.stderr
    assert "CATALOG_EVENTS" in listed.stdout and "catalog.events.>" in listed.stdout
    assert "PAVED_DLQ" in listed.stdout


def test_prepare_says_which_broker_it_cannot_reach(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"nats://127.0.0.1:{probe.getsockname()[1]}"
    result = prepare(tmp_path, closed)
    assert result.returncode == 3, result.stderr
    assert f"cannot reach NATS at {closed}" in result.stderr
