"""What the catalog promises other services and the storefront: its HTTP models and the events it publishes.

Events go to the stream it owns, CATALOG_EVENTS, each on its own subject (``catalog.events.price-changed``).
Changes here are compatible only (new optional fields); a breaking change is a new version beside this one.
"""

from __future__ import annotations

from typing import Annotated

from paved.messaging import Event, Stream
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,31}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Price(BaseModel):
    """Money as integer minor units (pence, cents) of an ISO 4217 currency, never a float."""

    model_config = ConfigDict(extra="forbid")

    amount_minor: int = Field(gt=0, le=100_000_000, examples=[1299])
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(examples=["GBP"])


class AlbumDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text
    artist: Text
    genre: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    released: int = Field(ge=1877, le=2100, description="the year it came out")


class NewAlbum(AlbumDetails):
    sku: Sku
    price: Price


class AlbumOut(AlbumDetails):
    sku: str
    price: Price


class AlbumPage(BaseModel):
    items: list[AlbumOut]
    next_cursor: str | None = Field(description="pass as `after` for the next page; null on the last page")


class PriceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price: Price


EVENTS = Stream("CATALOG_EVENTS", subjects=["catalog.events.>"])


class PriceChanged(Event, type="catalog.PriceChanged", version=1):
    """An album's price changed; orders placed from now on are charged the new price."""

    sku: str
    old_price: Price
    new_price: Price
    changed_at: AwareDatetime
