from __future__ import annotations

import asyncio

import pytest

from web_bff.clients import DownstreamFailedError, DownstreamRefusedError, DownstreamUnavailableError
from web_bff.fanout import Missing, or_missing, or_none_if_not_found, together


def refused(status: int) -> DownstreamRefusedError:
    return DownstreamRefusedError("order", status=status, members={"title": "Refused"}, headers={})


async def test_together_raises_the_first_failure_itself_and_cancels_the_rest() -> None:
    """A failed call ends the group: its error comes out unwrapped, and calls still running are cancelled."""
    finished: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(5)
        finished.append("slow")

    async def failing() -> None:
        raise DownstreamUnavailableError("payment", "cannot be reached")

    with pytest.raises(DownstreamUnavailableError, match="payment cannot be reached"):
        async with together() as group:
            group.create_task(slow())
            group.create_task(failing())
    assert finished == []


async def test_together_lets_a_bug_out_as_the_group() -> None:
    """An error that is not a service's failure is not disguised as one: it stays an exception group."""

    async def buggy() -> None:
        raise KeyError("sku")

    with pytest.raises(ExceptionGroup) as raised:
        async with together() as group:
            group.create_task(buggy())
    assert isinstance(raised.value.exceptions[0], KeyError)


async def test_or_missing_turns_a_failure_into_what_was_missing() -> None:
    """A part's failure becomes which service and why; a success is the result itself."""

    async def failing() -> int:
        raise DownstreamFailedError("loyalty", "failed (500)")

    async def answering() -> int:
        return 12

    assert await or_missing(failing()) == Missing("loyalty", "loyalty failed (500)")
    assert await or_missing(answering()) == 12


async def test_or_none_if_not_found_is_none_only_for_a_404() -> None:
    """404 means there is none yet; any other refusal is still an error."""

    async def refusing(status: int) -> int:
        raise refused(status)

    assert await or_none_if_not_found(refusing(404)) is None
    with pytest.raises(DownstreamRefusedError):
        await or_none_if_not_found(refusing(403))
