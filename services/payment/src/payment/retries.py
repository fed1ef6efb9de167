"""How often, and how soon again, the card processor is asked when it does not answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how soon again, the processor is asked when it does not answer."""

    charge_attempts: int = 5
    first_retry: timedelta = timedelta(milliseconds=500)
    longest_retry: timedelta = timedelta(minutes=1)
    # After giving up on a charge whose outcome is unknown, how long to wait before asking what happened.
    look_up_after: timedelta = timedelta(minutes=1)

    def retry_after(self, attempt: int) -> timedelta:
        """The wait after the ``attempt``-th unanswered call: doubling from ``first_retry`` up to ``longest_retry``."""
        doublings: int = 2 ** max(attempt - 1, 0)
        return min(self.first_retry * doublings, self.longest_retry)
