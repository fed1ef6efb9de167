"""What the integration tests configure identity with, and expect of it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from paved import Service

ISSUER = "http://identity.test"
AUDIENCE = "musiccorp-test"
ADMIN_EMAIL = "root@musiccorp.example.com"
ADMIN_PASSWORD = "the test admin's password"
ORDER_SECRET = "order-client-secret-for-tests"

# The ``running`` fixture: starts identity (again, for a restart) and yields it with a client.
Running = Callable[[], AbstractAsyncContextManager[tuple[Service, httpx.AsyncClient]]]
