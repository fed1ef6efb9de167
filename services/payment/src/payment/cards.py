"""Card numbers: checked with the Luhn algorithm, shown by their last four digits only."""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_DIGITS = re.compile(r"^[0-9]{12,19}$")


def passes_luhn(digits: str) -> bool:
    """Whether ``digits`` is 12 to 19 digits whose last one is the Luhn check digit of the others."""
    if not CARD_DIGITS.match(digits):
        return False
    total = 0
    # From the right, every second digit is doubled, and a two-digit result counts as its digit sum.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class CardUnreadableError(Exception):
    """A sealed card number cannot be opened: sealed under another key, or for another order."""


@dataclass(frozen=True, repr=False)
class CardNumber:
    """A card number as the customer gave it; its repr (what logs and tracebacks show) hides all but four digits."""

    digits: str

    @property
    def last4(self) -> str:
        return self.digits[-4:]

    @property
    def passes_luhn(self) -> bool:
        return passes_luhn(self.digits)

    def __repr__(self) -> str:
        return f"CardNumber(****{self.last4})"

    __str__ = __repr__
