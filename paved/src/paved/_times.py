"""Time, always timezone-aware UTC: the clock a service runs on, and a column type that keeps it so.

A service takes a ``Clock`` where it needs the time (``create_service(..., clock=utc_now)``), so a test
can hand it a clock of its own instead of patching ``datetime``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, TypeDecorator

Clock = Callable[[], datetime]
"""What tells a service the time: a callable returning an aware UTC datetime."""


def utc_now() -> datetime:
    """The wall clock, in UTC: the ``Clock`` a service runs on outside tests."""
    return datetime.now(UTC)


def now_ms() -> int:
    """Milliseconds since the epoch: a deadline that compares alike in SQL on every database."""
    return int(time.time() * 1000)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value (as SQLite keeps one) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime column on every database.

    SQLite keeps no zone: it is given UTC and read back as UTC, and its text compares in time order.
    A naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
