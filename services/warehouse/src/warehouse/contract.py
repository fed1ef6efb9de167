"""What the warehouse promises other services: its HTTP models, the commands it takes, what it answers and announces.

Commands go to the stream WAREHOUSE_COMMANDS, on ``warehouse.commands.<kind>``; events come out on
WAREHOUSE_EVENTS, on ``warehouse.events.<kind>`` (each message's subject is its class's). A command that
gives a reply subject is answered with where the order's stock stands after it: ``StockReserved``,
``StockReleased`` (released, or expired) or ``OrderDispatched``; or ``OutOfStock``, or
``ReservationNotFound``. So a ``DispatchOrder`` whose hold had expired is answered ``StockReleased``
with reason ``expired``: the asker compares the answer with what it asked for. The same facts are also
published as events, once, when they happen, correlated with their order (its id is the correlation id
of every event about it).

In the choreographed fulfilment the warehouse reacts to order's and payment's events instead of
commands (``choreography/``), and tells a refusal as the event ``ReservationRefused``.

Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from paved.messaging import Command, Event, Reply, Stream
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,31}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
OrderId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ReceiptId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# Strict: "3" or 3.0 or true are not a number of units.
Quantity = Annotated[int, Field(strict=True, gt=0, le=100_000)]

DEFAULT_TTL_SECONDS = 15 * 60
MAX_TTL_SECONDS = 7 * 24 * 3600


class Line(BaseModel):
    """So many units of one SKU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku = Field(examples=["ALB-00001"])
    quantity: Quantity = Field(examples=[1])


def _one_line_per_sku(lines: tuple[Line, ...]) -> tuple[Line, ...]:
    repeated = sorted({line.sku for line in lines if sum(other.sku == line.sku for other in lines) > 1})
    if repeated:
        raise ValueError(f"each SKU goes on one line; repeated: {', '.join(repeated)}")
    return lines


Lines = Annotated[tuple[Line, ...], Field(min_length=1, max_length=100), AfterValidator(_one_line_per_sku)]


# -- HTTP -----------------------------------------------------------------------------------------


class StockLevel(BaseModel):
    """How many units of a SKU can be reserved now (public)."""

    sku: str
    available: int


class StockLevels(BaseModel):
    items: list[StockLevel]


class StockAccount(BaseModel):
    """Where every unit of a SKU received is: available + reserved + dispatched = received (admin)."""

    sku: str
    received: int
    on_hand: int = Field(description="in the building: available + reserved")
    available: int
    reserved: int
    dispatched: int


class Delivery(BaseModel):
    """Units of a SKU that arrived; booked once per receipt id however often it is sent."""

    model_config = ConfigDict(extra="forbid")

    quantity: Quantity


class ReservationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    lines: Lines
    ttl_seconds: int = Field(
        default=DEFAULT_TTL_SECONDS,
        strict=True,
        ge=1,
        le=MAX_TTL_SECONDS,
        description="how long the stock is held unless the order is picked by then",
    )


ReservationStatus = Literal["held", "picked", "dispatched", "released", "expired"]


class ReservationOut(BaseModel):
    order_id: str
    status: ReservationStatus
    lines: list[Line]
    reserved_at: AwareDatetime
    expires_at: AwareDatetime = Field(description="when the hold lapses unless the order was picked by then")
    picked_at: AwareDatetime | None
    released_at: AwareDatetime | None = Field(description="when it was released, or when it expired")
    dispatched_at: AwareDatetime | None


# -- messages -------------------------------------------------------------------------------------

# The streams the warehouse owns. Each message's subject is its type's (``ReserveStock`` on
# ``warehouse.commands.reserve-stock``, ``StockReserved`` on ``warehouse.events.stock-reserved``);
# tests/unit/test_contract.py pins every one to the string on the wire.
COMMANDS = Stream("WAREHOUSE_COMMANDS", subjects=["warehouse.commands.>"])
EVENTS = Stream("WAREHOUSE_EVENTS", subjects=["warehouse.events.>"])


class ReserveStock(Command, type="warehouse.ReserveStock", version=1):
    """Hold all the order's lines or none; asking again for the same order is answered, not done twice."""

    order_id: OrderId
    lines: Lines
    ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, strict=True, ge=1, le=MAX_TTL_SECONDS)


class ReleaseStock(Command, type="warehouse.ReleaseStock", version=1):
    """Put the order's held stock back (a saga's compensation); releasing again changes nothing."""

    order_id: OrderId


class DispatchOrder(Command, type="warehouse.DispatchOrder", version=1):
    """Send the order's reserved units to the customer."""

    order_id: OrderId


class StockReserved(Event, Reply, type="warehouse.StockReserved", version=1):
    """The order's lines are held for it until ``expires_at`` (or until dispatched, once picked)."""

    order_id: str
    lines: tuple[Line, ...]
    expires_at: AwareDatetime


class StockReleased(Event, Reply, type="warehouse.StockReleased", version=1):
    """The order's held stock went back on the shelf: released on request, or expired unpicked."""

    order_id: str
    lines: tuple[Line, ...]
    reason: Literal["released", "expired"]
    released_at: AwareDatetime


class OrderDispatched(Event, Reply, type="warehouse.OrderDispatched", version=1):
    """The order's units left the warehouse for the customer."""

    order_id: str
    lines: tuple[Line, ...]
    dispatched_at: AwareDatetime


class OrderPicked(Event, type="warehouse.OrderPicked", version=1):
    """The order's units are off the shelf for packing; its hold no longer lapses."""

    order_id: str
    picked_at: AwareDatetime


class StockReceived(Event, type="warehouse.StockReceived", version=1):
    """A delivery of a SKU was booked into stock (its SKU may be back in stock)."""

    sku: str
    quantity: int
    receipt_id: str
    received_at: AwareDatetime


class Shortage(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    requested: int
    available: int


class OutOfStock(Reply, type="warehouse.OutOfStock", version=1):
    """Nothing was reserved: these SKUs of the order are short."""

    order_id: str
    shortages: tuple[Shortage, ...]


class ReservationRefused(Event, type="warehouse.ReservationRefused", version=1):
    """Nothing was reserved for a choreographed order: these SKUs of it are short (as ``OutOfStock`` says)."""

    order_id: str
    shortages: tuple[Shortage, ...]
    refused_at: AwareDatetime


class ReservationNotFound(Reply, type="warehouse.ReservationNotFound", version=1):
    """The order has no reservation to release or dispatch."""

    order_id: str
