"""What the loyalty service promises: the commands it takes, what it answers and announces, its HTTP models.

Commands go to the stream LOYALTY_COMMANDS, on ``loyalty.commands.<kind>``: ``AwardPoints`` when an order
is completed, ``RevokePoints`` when it is refunded. Each is idempotent per order: awarding an order again
changes nothing, revoking it again changes nothing, and an award that arrives after its order's
revocation (the messages overtook each other) awards nothing. Both carry the customer's id: it is the
ledger's partition key, so each command is one transaction in one partition (docs/loyalty.md).

A command that gives a reply subject (paved's ``SERVICE.replies``) is answered with where the order's
points stand after it: ``PointsAwarded``, or ``PointsRevoked`` once it was revoked (also to an award
that came too late). The answer to a repeat is the same as to the first. Each ledger entry is also
announced once, as the same event, on LOYALTY_EVENTS (``loyalty.events.<kind>``).

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from paved.messaging import Command, Event, Reply, Stream
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
CustomerId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
OrderId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ADMIN_SCOPE = "admin"
CUSTOMER_SCOPE = "customer"


class Money(BaseModel):
    """Money as integer minor units (pence, cents) of an ISO 4217 currency, never a float."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict: "1299" or 12.99 are not an amount of pence.
    amount_minor: int = Field(strict=True, ge=0, le=10**12, examples=[1299])
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(examples=["GBP"])


# -- messages -------------------------------------------------------------------------------------

# Both owned by loyalty: whoever sends it commands, or follows its events, finds them as declared here.
# Each message's subject comes from its type (``loyalty.commands.award-points``, ``loyalty.events.points-awarded``).
COMMANDS = Stream("LOYALTY_COMMANDS", subjects=["loyalty.commands.>"])
EVENTS = Stream("LOYALTY_EVENTS", subjects=["loyalty.events.>"])


class AwardPoints(Command, type="loyalty.AwardPoints", version=1):
    """Award the customer points for a completed order: one per 100 minor units of ``amount``, rounded down."""

    order_id: OrderId
    customer_id: CustomerId
    amount: Money


class RevokePoints(Command, type="loyalty.RevokePoints", version=1):
    """Take back the points an order earned (it was refunded); an award for it arriving later earns nothing."""

    order_id: OrderId
    customer_id: CustomerId


class PointsAwarded(Event, Reply, type="loyalty.PointsAwarded", version=1):
    """The customer earned ``points`` for the order; ``balance`` is theirs right after.

    An event on LOYALTY_EVENTS, and the reply to a command that asked (to wherever it asked).
    """

    order_id: str
    customer_id: str
    points: int
    balance: int
    awarded_at: AwareDatetime


class PointsRevoked(Event, Reply, type="loyalty.PointsRevoked", version=1):
    """The order's points are revoked: ``points`` were taken back (none if it had not been awarded yet)."""

    order_id: str
    customer_id: str
    points: int
    balance: int
    revoked_at: AwareDatetime
    was_awarded: bool = Field(description="false: the revocation came first, and the order will earn nothing")


# -- HTTP -----------------------------------------------------------------------------------------


class EntryOut(BaseModel):
    number: int = Field(description="1, 2, 3… per customer, in the order entries were recorded")
    order_id: str
    kind: Literal["award", "revoke"]
    points: int
    balance_after: int
    recorded_at: AwareDatetime
    amount: Money | None = Field(description="the order amount an award was reckoned from; null for a revocation")


class PointsStatement(BaseModel):
    customer_id: str
    balance: int
    entries: list[EntryOut] = Field(description="the most recent first")
