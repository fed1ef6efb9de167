"""Browsing and the basket: the catalog's albums with the warehouse's availability, shaped for a product grid.

Availability is a part the page renders without: if the warehouse is slow or down, the albums come
with availability ``unknown`` and the page says why, instead of the page failing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from web_bff import domain
from web_bff.caller import CurrentDownstreams
from web_bff.contract import (
    SKU_PATTERN,
    Basket,
    BrowsePage,
    PricedBasket,
    PricedLine,
    ProductCard,
    Unavailable,
)
from web_bff.downstream import Downstreams
from web_bff.fanout import Missing, or_missing, or_none_if_not_found, together
from web_bff.partners import CatalogAlbum, CatalogPage, StockLevels
from web_bff.views import money

router = APIRouter(tags=["shop"])


async def _stock(downstreams: Downstreams, skus: list[str]) -> dict[str, int] | Missing:
    """Each SKU's available units, or what was missing: the page waits for them only so long."""
    if not skus:
        return {}
    levels = await or_missing(
        downstreams.warehouse.get(
            "/stock", params={"sku": skus}, read=StockLevels, timeout=downstreams.deadlines.optional
        )
    )
    if isinstance(levels, Missing):
        return levels
    return {level.sku: level.available for level in levels.items}


def _unavailable(*parts: object) -> list[Unavailable]:
    return [Unavailable(service=part.service, reason=part.reason) for part in parts if isinstance(part, Missing)]


def _card(album: CatalogAlbum, stock: dict[str, int] | Missing) -> ProductCard:
    available = None if isinstance(stock, Missing) else stock.get(album.sku)
    availability = domain.availability_of(available)
    return ProductCard(
        sku=album.sku,
        title=album.title,
        artist=album.artist,
        genre=album.genre,
        released=album.released,
        price=money(album.price),
        availability=availability,
        units_left=available if availability is domain.Availability.LOW_STOCK else None,
    )


@router.get("/browse", summary="Albums for the product grid, a page at a time, with their availability")
async def browse(
    downstreams: CurrentDownstreams,
    q: Annotated[str | None, Query(max_length=300, description="part of the title or artist")] = None,
    genre: Annotated[str | None, Query(max_length=60, description="exact genre, any case")] = None,
    page: Annotated[str | None, Query(pattern=SKU_PATTERN, description="the `next_page` of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> BrowsePage:
    query = {"q": q, "genre": genre, "after": page, "limit": limit}
    albums = await downstreams.catalog.get(
        "/albums", params={name: value for name, value in query.items() if value is not None}, read=CatalogPage
    )
    # The stock of the albums the catalog chose: this call waits for the first, so it cannot overlap it.
    stock = await _stock(downstreams, [album.sku for album in albums.items])
    return BrowsePage(
        items=[_card(album, stock) for album in albums.items],
        next_page=albums.next_cursor,
        unavailable=_unavailable(stock),
    )


def _album(album: CatalogAlbum) -> domain.Album:
    price = domain.Money(album.price.amount_minor, album.price.currency)
    return domain.Album(sku=album.sku, title=album.title, artist=album.artist, price=price)


@router.post("/basket/price", summary="The basket the page keeps, priced by the catalog now, with availability")
async def price_basket(basket: Basket, downstreams: CurrentDownstreams) -> PricedBasket:
    skus = [line.sku for line in basket.lines]
    # Every album and the stock at once: the catalog has no call for many SKUs, so one call per line.
    async with together() as group:
        asked = {
            sku: group.create_task(or_none_if_not_found(downstreams.catalog.get(f"/albums/{sku}", read=CatalogAlbum)))
            for sku in skus
        }
        stock_task = group.create_task(_stock(downstreams, skus))
    albums = {sku: _album(found) for sku, task in asked.items() if (found := task.result()) is not None}
    stock = stock_task.result()
    priced = domain.price_basket([domain.BasketLine(line.sku, line.quantity) for line in basket.lines], albums)
    return PricedBasket(
        lines=[
            PricedLine(
                sku=line.album.sku,
                title=line.album.title,
                artist=line.album.artist,
                quantity=line.quantity,
                unit_price=money(line.album.price),
                total=money(line.total),
                availability=domain.availability_of(None if isinstance(stock, Missing) else stock.get(line.album.sku)),
            )
            for line in priced.lines
        ],
        unknown_skus=list(priced.unknown_skus),
        total=money(priced.total) if priced.total is not None else None,
        unavailable=_unavailable(stock),
    )
