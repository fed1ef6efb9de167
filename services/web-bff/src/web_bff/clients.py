"""The BFF's HTTP clients: one ``Downstream`` per service it calls, over paved's client (``Service.client``:
retries, a circuit breaker and a bulkhead per service; a refusal of paved's own, an open circuit, is a 503
like the service's, and so unavailable).

Every call has a deadline for the whole exchange: ``asyncio.timeout`` around the request and the reading
of its body, because httpx's timeout bounds each connect, read and write, not the call. Whatever goes
wrong becomes one of four errors, each naming the service, and ``problem_of`` turns each into the
problem the storefront gets: refused (a 4xx, passed through with what the service said), failed (a 5xx,
or a body that is not the contract: 502), unavailable (no connection, a 503, not configured: 503), or
timed out (504).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Generic, TypeVar

import httpx
import structlog
from paved import Problem
from pydantic import BaseModel, ValidationError

from web_bff.settings import Deadlines

log = structlog.get_logger(logger_name="web_bff.clients")

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int | Sequence[str]]
# What of a refusal goes back to the storefront: the members of a problem, and RFC 6749's error members
# (identity's token endpoint answers those).
_PASSED_MEMBERS = ("title", "detail", "errors", "error", "error_description")
_PASSED_HEADERS = ("www-authenticate", "retry-after")


class DownstreamError(Exception):
    """A call to another service did not give the answer the page needs."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} {reason}")
        self.service = service
        self.reason = f"{service} {reason}"
        # What the caller may do about it, where the endpoint knows better than the edge (see checkout).
        self.hint: str | None = None


class DownstreamRefusedError(DownstreamError):
    """The service refused the request (4xx): the caller sent something wrong, or is not allowed."""

    def __init__(self, service: str, *, status: int, members: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        super().__init__(service, f"refused the request ({status})")
        self.status = status
        self.members = dict(members)
        self.headers = dict(headers)


class DownstreamFailedError(DownstreamError):
    """The service answered, but not usefully: a 5xx, or a body that is not what its contract says."""


class DownstreamUnavailableError(DownstreamError):
    """The service cannot be reached now: no connection, it said 503, or the BFF was not told where it is."""

    def __init__(self, service: str, reason: str, *, retry_after: str | None = None) -> None:
        super().__init__(service, reason)
        self.retry_after = retry_after


class DownstreamTimeoutError(DownstreamError):
    """The service did not answer within the call's deadline."""

    def __init__(self, service: str, seconds: float) -> None:
        super().__init__(service, f"did not answer within {seconds:g} s")


@dataclass(frozen=True)
class Customer:
    """The signed-in customer, and the access token they sent: passed on to the services that act for them."""

    id: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        """The same bearer token for the services: they decide by its subject whose data it is."""
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass(frozen=True)
class Answer(Generic[M]):
    """A successful answer: its status, and its body read as the contract's model."""

    status: int
    body: M


def _refusal_members(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {"title": HTTPStatus(response.status_code).phrase}
    members = {name: body[name] for name in _PASSED_MEMBERS if isinstance(body.get(name), str | list)}
    members.setdefault("title", HTTPStatus(response.status_code).phrase)
    if "detail" not in members and "error_description" in members:
        members["detail"] = members["error_description"]
    members.pop("error_description", None)
    return members


class Downstream:
    """Calls to one service, with a deadline each; errors are :class:`DownstreamError`\\ s naming it.

    Args:
        name: the service's name, as problems and logs show it.
        client: paved's client of it, kept for the process (its connections reused between calls); None if
            the BFF was not told where it is (every call is then unavailable).
        timeout: the deadline of a call that gives none, in seconds.
    """

    def __init__(self, name: str, client: httpx.AsyncClient | None, *, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._client = client

    async def get(
        self,
        path: str,
        *,
        read: type[M],
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> M:
        """``GET path``'s body, read as ``read``."""
        answer = await self.send("GET", path, read=read, params=params, headers=headers, timeout=timeout)
        return answer.body

    async def send(
        self,
        method: str,
        path: str,
        *,
        read: type[M],
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer[M]:
        """One call, answered within ``timeout`` seconds (the service's default when None)."""
        if self._client is None:
            raise DownstreamUnavailableError(
                self.name, f"is not configured here (PAVED_{self.name.upper()}_URL is not set)"
            )
        deadline = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            # httpx's timeout (each connect, read, write) is the deadline too, so a long call is not cut
            # short by the client's default; asyncio's bounds the whole call.
            async with asyncio.timeout(deadline):
                response = await self._client.request(
                    method, path, params=params, json=json, data=data, headers=headers, timeout=deadline
                )
        except (TimeoutError, httpx.TimeoutException):
            log.warning("downstream timed out", service=self.name, method=method, path=path, deadline=deadline)
            raise DownstreamTimeoutError(self.name, deadline) from None
        except httpx.ConnectError as exc:
            log.warning("downstream unreachable", service=self.name, method=method, path=path, error=repr(exc))
            raise DownstreamUnavailableError(self.name, "cannot be reached") from None
        except httpx.TransportError as exc:
            # The request may have arrived: the connection broke off while it was sent or answered.
            log.warning("downstream broke off", service=self.name, method=method, path=path, error=repr(exc))
            raise DownstreamFailedError(self.name, "broke off the call") from None
        elapsed = round(time.monotonic() - started, 4)
        return self._answer(response, read=read, method=method, path=path, elapsed=elapsed)

    def _answer(self, response: httpx.Response, *, read: type[M], method: str, path: str, elapsed: float) -> Answer[M]:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return Answer(status, read.model_validate_json(response.content))
            except ValidationError as exc:
                log.warning("downstream broke its contract", service=self.name, path=path, errors=exc.error_count())
                raise DownstreamFailedError(self.name, "answered with a body its contract does not allow") from None
        if 400 <= status < 500:
            headers = {name: response.headers[name] for name in _PASSED_HEADERS if name in response.headers}
            raise DownstreamRefusedError(self.name, status=status, members=_refusal_members(response), headers=headers)
        log.warning("downstream failed", service=self.name, method=method, path=path, status=status, elapsed=elapsed)
        if status == 503:
            # What the service says of it (a partner of its own unavailable, say) is what the page shows.
            said = _refusal_members(response).get("detail")
            reason = f"is unavailable (503): {said}" if said else "is unavailable (503)"
            raise DownstreamUnavailableError(self.name, reason, retry_after=response.headers.get("retry-after"))
        raise DownstreamFailedError(self.name, f"failed ({status})")


@dataclass(frozen=True)
class Downstreams:
    """Every service the BFF calls, and how long it waits for each kind of call."""

    deadlines: Deadlines
    identity: Downstream
    catalog: Downstream
    customer: Downstream
    order: Downstream
    warehouse: Downstream
    loyalty: Downstream
    payment: Downstream


def problem_of(error: DownstreamError) -> Problem:
    """The problem the storefront gets for ``error``: a refusal as the service said it, else 502/503/504."""
    if isinstance(error, DownstreamRefusedError):
        members = dict(error.members)
        title, detail = members.pop("title"), members.pop("detail", None)
        return Problem(error.status, title, detail, headers=error.headers, service=error.service, **members)
    detail = f"{error.reason}; {error.hint}" if error.hint else error.reason
    if isinstance(error, DownstreamTimeoutError):
        return Problem(504, "Gateway Timeout", detail, service=error.service)
    if isinstance(error, DownstreamUnavailableError):
        headers = {"Retry-After": error.retry_after} if error.retry_after else None
        return Problem(503, "Service Unavailable", detail, headers=headers, service=error.service)
    return Problem(502, "Bad Gateway", detail, service=error.service)
