"""The client every outbound HTTP call goes through: ids travel on, and every call has a deadline."""

from __future__ import annotations

import httpx

from paved import context
from paved.middleware import CORRELATION_ID

DEFAULT_TIMEOUT_SECONDS = 5.0


async def _propagate_ids(request: httpx.Request) -> None:
    if (cid := context.correlation_id.get()) is not None:
        request.headers.setdefault(CORRELATION_ID, cid)
    if (rid := context.request_id.get()) is not None:
        # The caller's request id becomes the callee's causation: the callee makes its own.
        request.headers.setdefault("x-caused-by", rid)


def service_client(
    base_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for calling another service at ``base_url``.

    Args:
        base_url: where the other service answers, e.g. ``http://127.0.0.1:8101``.
        timeout: the whole call's deadline in seconds; there is no call without one.
        transport: replaces the network, for tests (e.g. ``httpx.MockTransport``).
    """
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        transport=transport,
        event_hooks={"request": [_propagate_ids]},
    )
