"""A locked RabbitMQ: a user per service, allowed what its own code declares (``python -m paved permissions``),
made with ``rabbitmqctl`` on the node that runs the broker."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

# paved's one topic exchange (``paved.messaging._rabbitmq.EXCHANGE``), which the topic permissions are for.
EXCHANGE = "paved"


class RabbitMQLockError(Exception):
    """``rabbitmqctl`` could not make a service's user."""


@dataclass(frozen=True)
class RabbitUser:
    """One service's user: its password, and its permissions as ``rabbitmq_permissions`` names them."""

    name: str
    password: str
    permissions: dict[str, str]


def _run(ctl: Sequence[str], *arguments: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [*ctl, *arguments], input=stdin, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    if result.returncode != 0:
        raise RabbitMQLockError(f"rabbitmqctl {' '.join(arguments)} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _password_hash(password: str) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: a 4-byte salt, then SHA-256 of salt and password."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(users: Sequence[RabbitUser], *, vhost: str) -> dict[str, Any]:
    """The users, their permissions and topic permissions, as ``rabbitmqctl import_definitions`` reads them."""
    return {
        "users": [
            {
                "name": user.name,
                "password_hash": _password_hash(user.password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for user in users
        ],
        "permissions": [
            {"user": user.name, "vhost": vhost}
            | {kind: user.permissions[kind] for kind in ("configure", "write", "read")}
            for user in users
        ],
        "topic_permissions": [
            {
                "user": user.name,
                "vhost": vhost,
                "exchange": EXCHANGE,
                "write": user.permissions["topic_write"],
                "read": user.permissions["topic_read"],
            }
            for user in users
        ],
    }


def lock(users: Sequence[RabbitUser], *, vhost: str, ctl: Sequence[str], env: dict[str, str] | None = None) -> None:
    """Make (or update) each user with its password and permissions on ``vhost``, in one ``rabbitmqctl`` call
    (each starts an Erlang VM: about a second); idempotent. The passwords go as salted hashes, on standard
    input: never on a command line, which any local user can read.

    ``ctl`` is the ``rabbitmqctl`` command line that reaches the node (``["rabbitmqctl", "-n", NODE]``).
    """
    _run(ctl, "import_definitions", stdin=json.dumps(definitions(users, vhost=vhost)), env=env)


def node_serving(url: str, *, rabbitmqctl: str, env: dict[str, str] | None = None) -> str | None:
    """The local RabbitMQ node whose AMQP listener is ``url``'s port, or None (not on this machine, or not one
    ``rabbitmqctl`` may reach): ``rabbitmqctl`` names a node (``rabbit@localhost``), not an address."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    port = parts.port or 5672
    try:
        names = subprocess.run(["epmd", "-names"], capture_output=True, text=True, timeout=10, check=False).stdout
    except OSError:
        return None
    hosts = dict.fromkeys(("localhost", socket.gethostname().split(".")[0]))
    for line in names.splitlines():
        if not line.startswith("name "):
            continue
        name = line.split()[1]
        for host in hosts:
            status = subprocess.run(
                [rabbitmqctl, "-n", f"{name}@{host}", "-q", "status", "--formatter", "json"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=env,
            )
            if status.returncode != 0:
                continue
            listeners = json.loads(status.stdout).get("listeners", [])
            if any(item.get("protocol") == "amqp" and item.get("port") == port for item in listeners):
                return f"{name}@{host}"
    return None


def rabbitmqctl() -> str:
    """Debian's ``rabbitmqctl`` itself (its /usr/sbin wrapper switches to the rabbitmq user); raises
    ``RabbitMQLockError`` if RabbitMQ's tools are not installed here."""
    for candidate in (Path("/usr/lib/rabbitmq/bin/rabbitmqctl"), shutil.which("rabbitmqctl")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise RabbitMQLockError("rabbitmqctl is not installed here")


def vhost_of(url: str) -> str:
    """The virtual host an ``amqp://`` URL names (``/`` when it names none)."""
    path = urlsplit(url).path
    return "/" if path in ("", "/") else path[1:]


def as_user(url: str, user: RabbitUser) -> str:
    """``url`` with ``user``'s name and password in place of the admin's."""
    parts = urlsplit(url)
    port = "" if parts.port is None else f":{parts.port}"
    netloc = f"{quote(user.name, safe='')}:{quote(user.password, safe='')}@{parts.hostname}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
