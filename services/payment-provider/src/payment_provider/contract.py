"""The processor's HTTP API: what its clients send and get back.

Every ``POST`` carries an ``Idempotency-Key`` header: the same key with the same request returns the first
answer (status 200 and ``Idempotent-Replayed: true``) instead of doing it again, across restarts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from payment_provider.domain import passes_luhn

IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# No control characters (NUL above all, which PostgreSQL refuses in text).
Reference = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,200}$")]
CHARGE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
AmountMinor = Annotated[int, Field(strict=True, gt=0, le=100_000_000)]


def _luhn(number: str) -> str:
    if not passes_luhn(number):
        raise ValueError("fails the Luhn check: it is not a card number")
    return number


# The number itself never appears in an error: paved's problems name the field and the rule only.
CardDigits = Annotated[str, StringConstraints(pattern=r"^[0-9]{12,19}$"), AfterValidator(_luhn)]


class NewCharge(BaseModel):
    """A charge to make: integer minor units (pence, cents) of an ISO 4217 currency."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    amount_minor: AmountMinor = Field(examples=[1299])
    currency: Currency = Field(examples=["GBP"])
    card_number: CardDigits = Field(repr=False, examples=["4242424242424242"])
    reference: Reference = Field(description="the client's own reference, e.g. its order id", examples=["o-1"])


class NewRefund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: AmountMinor | None = Field(default=None, description="what to give back; all that is left if omitted")


class RefundOut(BaseModel):
    id: str
    charge_id: str
    amount_minor: int
    currency: str
    created_at: AwareDatetime


class ChargeOut(BaseModel):
    id: str
    status: Literal["succeeded", "declined"]
    decline_code: str | None = Field(description="why the card was declined, e.g. card_declined; null if it was not")
    amount_minor: int
    currency: str
    card_last4: str
    reference: str
    refunded_minor: int
    refunds: list[RefundOut]
    created_at: AwareDatetime


class ChargeList(BaseModel):
    items: list[ChargeOut]
