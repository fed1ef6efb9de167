"""The catalog's use cases: anyone browses the catalogue; an admin adds, describes and prices albums.

Each change is one transaction, with the facts it records announced in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from paved import Clock, utc_now

from catalog.domain import Album, AlbumFilter, Money
from catalog.ports import Store, UnitOfWork


@dataclass(frozen=True)
class Page:
    """Albums in stock-keeping-id order, and the id to continue after (None on the last page)."""

    albums: list[Album]
    next_cursor: str | None


class Catalogue:
    """The albums the shop sells, identified by their stock-keeping ids."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self.uow = uow
        self.clock = clock

    async def browse(self, where: AlbumFilter, *, after: str | None, limit: int) -> Page:
        """A page of at most ``limit`` albums, after the stock-keeping id ``after`` (keyset paging)."""
        async with self.uow.read() as store:
            # One more than asked tells whether there is a next page without counting.
            found = await store.albums.list(where, after=after, limit=limit + 1)
        page = found[:limit]
        return Page(albums=page, next_cursor=page[-1].sku if len(found) > limit else None)

    async def album(self, sku: str) -> Album:
        """One album; raises ``AlbumNotFoundError``."""
        async with self.uow.read() as store:
            return await store.albums.get(sku)

    async def add_album(self, *, sku: str, title: str, artist: str, genre: str, released: int, price: Money) -> Album:
        """Sell a new album; raises ``SkuAlreadyExistsError`` if its stock-keeping id is taken."""
        album = Album(sku=sku, title=title, artist=artist, genre=genre, released=released, price=price)
        async with self.uow.write() as store:
            await store.albums.add(album)
        return album

    async def describe_album(self, sku: str, *, title: str, artist: str, genre: str, released: int) -> Album:
        """Correct what an album is; its price stays."""
        async with self.uow.write() as store:
            album = await store.albums.get(sku)
            album.describe(title=title, artist=artist, genre=genre, released=released)
            await store.albums.save(album)
        return album

    async def change_price(self, sku: str, price: Money) -> Album:
        """Charge ``price`` for the album from now on, and announce it if it changed."""
        async with self.uow.write() as store:
            album = await store.albums.get(sku)
            album.change_price(price, at=self.clock())
            await store.albums.save(album)
            # The fact goes out with the change or not at all: same transaction, through the outbox.
            await _announce(store, album)
        return album


async def _announce(store: Store, album: Album) -> None:
    for fact in album.facts:
        await store.announce(fact)
    album.facts.clear()
