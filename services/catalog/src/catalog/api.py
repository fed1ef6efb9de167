"""The catalog's HTTP API: parse, call a use case, answer with the contract's models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from paved import Provided, callers, require_scopes

from catalog.contract import SKU_PATTERN, AlbumDetails, AlbumOut, AlbumPage, NewAlbum, Price, PriceChange, Sku
from catalog.domain import Album, AlbumFilter, Money
from catalog.use_cases import Catalogue

# Who may call (deny by default, docs/zero-trust.md): the storefront browses, order prices what it sells;
# the admin routes also take the operators' tools.
router = APIRouter(prefix="/albums", tags=["albums"], dependencies=[callers("web-bff", "order")])

CurrentCatalogue = Annotated[Catalogue, Provided(Catalogue)]
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="the album's stock-keeping id")]


def _money(price: Price) -> Money:
    return Money(price.amount_minor, price.currency)


def _out(album: Album) -> AlbumOut:
    return AlbumOut(
        sku=album.sku,
        title=album.title,
        artist=album.artist,
        genre=album.genre,
        released=album.released,
        price=Price(amount_minor=album.price.amount_minor, currency=album.price.currency),
    )


@router.get("", summary="List albums, filtered, a page at a time")
async def list_albums(
    catalogue: CurrentCatalogue,
    genre: Annotated[str | None, Query(max_length=60, description="exact genre, any case")] = None,
    artist: Annotated[str | None, Query(max_length=300, description="part of the artist's name")] = None,
    q: Annotated[str | None, Query(max_length=300, description="part of the title or artist")] = None,
    after: Annotated[Sku | None, Query(description="the `next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AlbumPage:
    page = await catalogue.browse(AlbumFilter(genre=genre, artist=artist, text=q), after=after, limit=limit)
    return AlbumPage(items=[_out(a) for a in page.albums], next_cursor=page.next_cursor)


@router.get("/{sku}", summary="One album")
async def get_album(sku: SkuPath, catalogue: CurrentCatalogue) -> AlbumOut:
    return _out(await catalogue.album(sku))


# Writes need an access token with the admin scope, verified here against identity's published keys.
ADMIN = require_scopes("admin")
OPERATORS = callers(operators=True)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[ADMIN, OPERATORS], summary="Add an album (admin)")
async def add_album(new: NewAlbum, catalogue: CurrentCatalogue, response: Response) -> AlbumOut:
    album = await catalogue.add_album(
        sku=new.sku,
        title=new.title,
        artist=new.artist,
        genre=new.genre,
        released=new.released,
        price=_money(new.price),
    )
    response.headers["Location"] = f"{router.prefix}/{album.sku}"
    return _out(album)


@router.put("/{sku}", dependencies=[ADMIN, OPERATORS], summary="Correct an album's details (admin)")
async def describe_album(sku: SkuPath, details: AlbumDetails, catalogue: CurrentCatalogue) -> AlbumOut:
    album = await catalogue.describe_album(
        sku, title=details.title, artist=details.artist, genre=details.genre, released=details.released
    )
    return _out(album)


@router.put("/{sku}/price", dependencies=[ADMIN, OPERATORS], summary="Change an album's price (admin)")
async def change_price(sku: SkuPath, change: PriceChange, catalogue: CurrentCatalogue) -> AlbumOut:
    return _out(await catalogue.change_price(sku, _money(change.price)))
