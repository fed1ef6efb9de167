"""Charges and refunds as a card processor keeps them: the rules, with no I/O and no framework.

A card number is checked (Luhn) and then reduced to its last four digits: no charge, refund or error
holds the full number, so nothing the processor stores or logs can leak it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

CARD_DIGITS = re.compile(r"^[0-9]{12,19}$")


class ProviderError(Exception):
    """A request the processor refuses."""


class InvalidCardNumberError(ProviderError):
    """The card number is not one: wrong length, not digits, or its check digit is wrong."""


class ChargeNotFoundError(ProviderError):
    def __init__(self, charge_id: str) -> None:
        super().__init__(f"no charge has the id {charge_id!r}")


class IdempotencyKeyReusedError(ProviderError):
    """A key already used for one request came with a different one: a client bug, never replayed."""


class KeyInUseError(ProviderError):
    """Another request with the same idempotency key is being processed right now."""


class ChargeNotRefundableError(ProviderError):
    """A declined charge took no money, so there is nothing to give back."""


class RefundExceedsChargeError(ProviderError):
    """More would go back to the card than the charge took."""


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


@dataclass(frozen=True, repr=False)
class CardNumber:
    """A card number that passed the Luhn check; it shows only its last four digits."""

    digits: str

    def __post_init__(self) -> None:
        if not passes_luhn(self.digits):
            raise InvalidCardNumberError("the card number fails the Luhn check")

    @property
    def last4(self) -> str:
        return self.digits[-4:]

    def __repr__(self) -> str:
        return f"CardNumber(****{self.last4})"


class ChargeStatus(StrEnum):
    """What became of a charge: decided once, never changed."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"


@dataclass(frozen=True)
class ChargeRequest:
    """What a client asks to be charged; a replay of its idempotency key must ask the same."""

    amount_minor: int
    currency: str
    card: CardNumber
    reference: str


@dataclass(frozen=True)
class Refund:
    """Money given back from a charge, once per idempotency key."""

    id: str
    charge_id: str
    idempotency_key: str
    amount_minor: int
    created_at: datetime


@dataclass
class Charge:
    """One charge of a card, decided once: it succeeded or was declined, and a replay returns it as it is."""

    id: str
    idempotency_key: str
    amount_minor: int
    currency: str
    card_last4: str
    reference: str
    status: ChargeStatus
    decline_code: str | None
    created_at: datetime
    refunds: list[Refund] = field(default_factory=list)

    @classmethod
    def decide(
        cls,
        *,
        charge_id: str,
        idempotency_key: str,
        request: ChargeRequest,
        declined_cards: Mapping[str, str],
        at: datetime,
    ) -> Charge:
        """Charge the card, or decline it with the code configured for that card number."""
        decline_code = declined_cards.get(request.card.digits)
        return cls(
            id=charge_id,
            idempotency_key=idempotency_key,
            amount_minor=request.amount_minor,
            currency=request.currency,
            card_last4=request.card.last4,
            reference=request.reference,
            status=ChargeStatus.DECLINED if decline_code else ChargeStatus.SUCCEEDED,
            decline_code=decline_code,
            created_at=at,
        )

    def check_replay(self, request: ChargeRequest) -> None:
        """Refuse a request that reuses this charge's idempotency key for something else."""
        asked = (request.amount_minor, request.currency, request.card.last4, request.reference)
        if asked != (self.amount_minor, self.currency, self.card_last4, self.reference):
            raise IdempotencyKeyReusedError(
                f"the idempotency key {self.idempotency_key!r} was used for a different charge request"
            )

    @property
    def refunded_minor(self) -> int:
        return sum(refund.amount_minor for refund in self.refunds)

    def refund(self, *, refund_id: str, idempotency_key: str, amount_minor: int | None, at: datetime) -> Refund:
        """Give ``amount_minor`` back (all that is left when None)."""
        if self.status is not ChargeStatus.SUCCEEDED:
            raise ChargeNotRefundableError(f"charge {self.id} was declined: it took nothing to give back")
        left = self.amount_minor - self.refunded_minor
        amount = left if amount_minor is None else amount_minor
        if amount <= 0 or amount > left:
            raise RefundExceedsChargeError(
                f"charge {self.id} has {left} {self.currency} (minor units) left to refund, not {amount}"
            )
        refund = Refund(
            id=refund_id, charge_id=self.id, idempotency_key=idempotency_key, amount_minor=amount, created_at=at
        )
        self.refunds.append(refund)
        return refund


def check_refund_replay(refund: Refund, *, charge_id: str, amount_minor: int | None) -> None:
    """Refuse a refund request that reuses a key given to another refund."""
    if refund.charge_id != charge_id or amount_minor not in (None, refund.amount_minor):
        raise IdempotencyKeyReusedError(
            f"the idempotency key {refund.idempotency_key!r} was used for a different refund request"
        )
