"""How the processor misbehaves: latency, server errors and timeouts, drawn from a seeded generator.

Every request draws its fate with exactly three numbers from one ``random.Random(seed)``: whether it fails
and how, its jitter, and which error status. So with a seed the n-th request's fate depends on the seed
and n alone, and a test that sends its requests one after the other sees the same fates every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Failure(StrEnum):
    """How a request fails."""

    ERROR = "error"  # answers 500 or 503 having done nothing
    TIMEOUT = "timeout"  # does the work, then sleeps past any sensible deadline before answering


@dataclass(frozen=True)
class Behaviour:
    """The misbehaviour configured; rates are probabilities per request."""

    latency_seconds: float = 0.0
    jitter_seconds: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability: between 0 and 1")
        if self.error_rate + self.timeout_rate > 1.0:
            raise ValueError("error_rate and timeout_rate together cannot exceed 1")
        if min(self.latency_seconds, self.jitter_seconds) < 0 or self.timeout_seconds <= 0:
            raise ValueError("latency and jitter cannot be negative, and the timeout must be positive")


@dataclass(frozen=True)
class Fate:
    """What happens to one request: how long it takes before its work, whether it fails, and how long
    it waits after its work before answering (a timeout's ``linger_seconds``)."""

    delay_seconds: float
    failure: Failure | None = None
    error_status: int = 500
    linger_seconds: float = 0.0


class Fates:
    """Draws each request's fate; one per process, so the sequence follows the seed."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        # Not ``secrets``: these are misbehaviours to test against, and a seed must repeat them.
        self._random = random.Random(behaviour.seed)

    def draw(self) -> Fate:
        """The next request's fate."""
        roll, jitter, status = self._random.random(), self._random.random(), self._random.random()
        b = self.behaviour
        delay = b.latency_seconds + jitter * b.jitter_seconds
        if roll < b.error_rate:
            return Fate(delay, Failure.ERROR, 503 if status < 0.5 else 500)
        if roll < b.error_rate + b.timeout_rate:
            return Fate(delay, Failure.TIMEOUT, linger_seconds=b.timeout_seconds)
        return Fate(delay)
