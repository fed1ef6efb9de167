"""A locked RabbitMQ: a user per service, allowed what its own code declares (``python -m paved permissions``),
made with ``rabbitmqctl`` on the node that runs the broker."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
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
        # The arguments are not shown: a password may be among them.
        raise RabbitMQLockError(f"rabbitmqctl {arguments[0]} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def lock(users: Sequence[RabbitUser], *, vhost: str, ctl: Sequence[str], env: dict[str, str] | None = None) -> None:
    """Make (or update) each user with its password and permissions on ``vhost``; idempotent.

    ``ctl`` is the ``rabbitmqctl`` command line that reaches the node (``["rabbitmqctl", "-n", NODE]``).
    """
    known = {user["user"] for user in json.loads(_run(ctl, "-q", "list_users", "--formatter", "json", env=env))}
    for user in users:
        if user.name in known:
            _run(ctl, "change_password", user.name, user.password, env=env)
        else:
            _run(ctl, "add_user", user.name, user.password, env=env)
        granted = user.permissions
        _run(
            ctl,
            "set_permissions",
            "-p",
            vhost,
            user.name,
            granted["configure"],
            granted["write"],
            granted["read"],
            env=env,
        )
        topic = (granted["topic_write"], granted["topic_read"])
        _run(ctl, "set_topic_permissions", "-p", vhost, user.name, EXCHANGE, *topic, env=env)


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
