"""Calls made at once: a page's independent calls run together, so it waits for the slowest, not the sum.

``together()`` is for calls the page needs every one of: the first that fails cancels the others and
is raised as itself (so it becomes its own problem response). ``or_missing()`` is for a part the page
renders without: its failure becomes a :class:`Missing` that the page shows in that part's place.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from web_bff.clients import DownstreamError, DownstreamRefusedError

T = TypeVar("T")


@dataclass(frozen=True)
class Missing:
    """A part of a page that could not be had now: which service it needed, and why."""

    service: str
    reason: str


@asynccontextmanager
async def together() -> AsyncIterator[asyncio.TaskGroup]:
    """A task group whose first :class:`DownstreamError` comes out unwrapped (not in an exception group).

    Anything else (a bug) still comes out as the group, so it is not mistaken for a service's failure.
    """
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except* DownstreamError as failed:
        raise _first(failed) from None


def _first(group: BaseExceptionGroup[DownstreamError]) -> DownstreamError:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found


async def or_missing(call: Awaitable[T]) -> T | Missing:
    """``call``'s result, or what was missing if its service failed it."""
    try:
        return await call
    except DownstreamError as exc:
        return Missing(exc.service, exc.reason)


async def or_none_if_not_found(call: Awaitable[T]) -> T | None:
    """``call``'s result, or None if its service answered 404 (there is none yet, which is no failure)."""
    try:
        return await call
    except DownstreamRefusedError as exc:
        if exc.status == 404:
            return None
        raise
