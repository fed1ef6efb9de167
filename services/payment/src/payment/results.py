"""What the card processor answered a call with, or that it did not: the vocabulary of the provider port.

A call that gets no definite answer is ``NoAnswer``; ``maybe_done`` says whether the request may have
reached the processor and been carried out (a timeout, a dropped connection, a 500) or surely was not
(the connection was refused, a 503 or 429: the processor says it did nothing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Charged:
    """The card was charged."""

    charge_id: str


@dataclass(frozen=True)
class Declined:
    """The card was declined; the processor's code says why."""

    charge_id: str
    code: str


@dataclass(frozen=True)
class RefundMade:
    """The money went back to the card."""

    refund_id: str


@dataclass(frozen=True)
class FoundCharge:
    """A charge the processor holds, and whether it took the money."""

    charge_id: str
    succeeded: bool


@dataclass(frozen=True)
class ChargesFound:
    """The charges the processor holds under a reference (an order id)."""

    charges: tuple[FoundCharge, ...]


@dataclass(frozen=True)
class NoAnswer:
    """No definite answer came; ``maybe_done`` says whether the request may have been carried out."""

    reason: str
    maybe_done: bool


@dataclass(frozen=True)
class Refused:
    """The processor refused the request itself (a 4xx): sending it again cannot help."""

    reason: str


ChargeResult = Charged | Declined | NoAnswer | Refused
RefundResult = RefundMade | NoAnswer | Refused
LookUpResult = ChargesFound | NoAnswer | Refused
