"""The BFF's outgoing edge replaced: each service it calls is a ``FakeService`` behind an ``httpx.MockTransport``.

A fake answers from its routes, records every request with when it started and finished (so a test can
see calls overlap), and can be made slow, unreachable, or failing with a status.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from paved.testing import TestTokens

TOKENS = TestTokens()  # the test's own token issuer, standing in for identity's keys

Handler = Callable[..., httpx.Response]


def problem(status: int, title: str, detail: str | None = None, **members: Any) -> httpx.Response:
    """A problem response, as the paved services answer their refusals."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        **({"detail": detail} if detail else {}),
        **members,
    }
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def subject_of(request: httpx.Request) -> str | None:
    """Whose token the request carries: the services decide by it (the fakes trust the BFF verified it)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or token.count(".") != 2:
        return None
    claims = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"])


@dataclass(frozen=True)
class Seen:
    """One request a fake received, and when its answer began and ended (monotonic seconds)."""

    request: httpx.Request
    started: float
    ended: float

    @property
    def json(self) -> Any:
        return json.loads(self.request.content)


class _ClosableTransport(httpx.MockTransport):
    def __init__(self, fake: FakeService) -> None:
        super().__init__(fake.handle)
        self.fake = fake

    async def aclose(self) -> None:
        self.fake.closed = True


class FakeService:
    """One service as the BFF sees it over HTTP."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.seen: list[Seen] = []
        self.delay = 0.0
        self.down = False
        self.failing_with: int | None = None
        self.closed = False

    def answer(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` (a regex; its named groups become keyword arguments) with ``handler``."""
        self.routes.append((method, re.compile(path), handler))

    def transport(self) -> httpx.AsyncBaseTransport:
        return _ClosableTransport(self)

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [seen.request for seen in self.seen if seen.request.url.path == path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        try:
            return await self._answer(request)
        finally:
            self.seen.append(Seen(request, started, time.monotonic()))

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.failing_with is not None:
            return problem(self.failing_with, "Failing", f"{self.name} is made to fail in this test")
        for method, path, handler in self.routes:
            if method == request.method and (match := path.fullmatch(request.url.path)):
                return handler(request, **match.groupdict())
        return problem(404, "Not Found", f"{self.name} has no {request.method} {request.url.path}")


def overlapping(*calls: Seen) -> bool:
    """Whether every one of ``calls`` was being answered at one same moment."""
    return max(call.started for call in calls) < min(call.ended for call in calls)
