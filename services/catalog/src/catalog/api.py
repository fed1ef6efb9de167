"""The catalog's HTTP API: parse, call the domain in one transaction, answer with the contract's models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from paved import CurrentDatabase, CurrentOutbox, require_scopes

from catalog.contract import (
    SKU_PATTERN,
    AlbumDetails,
    AlbumOut,
    AlbumPage,
    PRICE_CHANGED_SUBJECT,
    NewAlbum,
    Price,
    PriceChange,
    PriceChanged,
    Sku,
)
from catalog.domain import Album, Money
from catalog.domain import PriceChanged as PriceChangedFact
from catalog.store import AlbumFilter, AlbumRepository

router = APIRouter(prefix="/albums", tags=["albums"])

SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="the album's stock-keeping id")]


def _price(money: Money) -> Price:
    return Price(amount_minor=money.amount_minor, currency=money.currency)


def _published(fact: PriceChangedFact) -> PriceChanged:
    return PriceChanged(
        sku=fact.sku, old_price=_price(fact.old_price), new_price=_price(fact.new_price), changed_at=fact.changed_at
    )


def _out(album: Album) -> AlbumOut:
    return AlbumOut(
        sku=album.sku,
        title=album.title,
        artist=album.artist,
        genre=album.genre,
        released=album.released,
        price=_price(album.price),
    )


@router.get("", summary="List albums, filtered, a page at a time")
async def list_albums(
    db: CurrentDatabase,
    genre: Annotated[str | None, Query(max_length=60, description="exact genre, any case")] = None,
    artist: Annotated[str | None, Query(max_length=300, description="part of the artist's name")] = None,
    q: Annotated[str | None, Query(max_length=300, description="part of the title or artist")] = None,
    after: Annotated[Sku | None, Query(description="the `next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AlbumPage:
    async with db.read() as session:
        # One more than asked tells whether there is a next page without counting.
        found = await AlbumRepository(session).list(
            AlbumFilter(genre=genre, artist=artist, text=q), after=after, limit=limit + 1
        )
    page = found[:limit]
    return AlbumPage(
        items=[_out(a) for a in page], next_cursor=page[-1].sku if len(found) > limit else None
    )


@router.get("/{sku}", summary="One album")
async def get_album(sku: SkuPath, db: CurrentDatabase) -> AlbumOut:
    async with db.read() as session:
        return _out(await AlbumRepository(session).get(sku))


# Writes need an access token with the admin scope, verified here against identity's published keys.
ADMIN = require_scopes("admin")


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[ADMIN], summary="Add an album (admin)")
async def add_album(new: NewAlbum, db: CurrentDatabase, response: Response) -> AlbumOut:
    album = Album(
        sku=new.sku,
        title=new.title,
        artist=new.artist,
        genre=new.genre,
        released=new.released,
        price=Money(new.price.amount_minor, new.price.currency),
    )
    async with db.transaction() as session:
        await AlbumRepository(session).add(album)
    response.headers["Location"] = f"{router.prefix}/{album.sku}"
    return _out(album)


@router.put("/{sku}", dependencies=[ADMIN], summary="Correct an album's details (admin)")
async def describe_album(sku: SkuPath, details: AlbumDetails, db: CurrentDatabase) -> AlbumOut:
    async with db.transaction() as session:
        albums = AlbumRepository(session)
        album = await albums.get(sku)
        album.describe(title=details.title, artist=details.artist, genre=details.genre, released=details.released)
        await albums.save(album)
    return _out(album)


@router.put("/{sku}/price", dependencies=[ADMIN], summary="Change an album's price (admin)")
async def change_price(sku: SkuPath, change: PriceChange, db: CurrentDatabase, outbox: CurrentOutbox) -> AlbumOut:
    async with db.transaction() as session:
        albums = AlbumRepository(session)
        album = await albums.get(sku)
        album.change_price(Money(change.price.amount_minor, change.price.currency))
        await albums.save(album)
        # The fact goes out with the change or not at all: same transaction, through the outbox.
        for fact in album.events:
            await outbox.put(session, _published(fact).envelope(), subject=PRICE_CHANGED_SUBJECT)
    return _out(album)
