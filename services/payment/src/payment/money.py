"""Money as integer minor units of a currency: never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidAmountError(Exception):
    """An amount that cannot be charged."""


@dataclass(frozen=True)
class Money:
    """An amount in minor units (pence, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise InvalidAmountError(f"a payment is for more than nothing, not {self.amount_minor}")
        if not CURRENCY.match(self.currency):
            raise InvalidAmountError(f"currency {self.currency!r} is not an ISO 4217 code such as 'GBP'")
