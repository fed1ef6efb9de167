"""What the current request or message is part of, carried across awaits by context variables."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("paved_request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("paved_correlation_id", default=None)
# When the work in hand must be done (``time.monotonic()`` seconds): the budget of every call it makes.
deadline: ContextVar[float | None] = ContextVar("paved_deadline", default=None)
# The access token the request being served was verified with: what ``ForwardedToken`` sends on.
access_token: ContextVar[str | None] = ContextVar("paved_access_token", default=None)


def new_id() -> str:
    """An opaque, unique identifier."""
    return uuid.uuid4().hex
