"""The catalog's repository and unit of work over its tables (``tables.py``): the only code that knows them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from paved import Database
from paved.messaging import Announcer, MessageWriter
from sqlalchemy import Column, ColumnElement, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.announcements import event_of
from catalog.domain import Album, AlbumFilter, AlbumNotFoundError, Money, SkuAlreadyExistsError
from catalog.tables import albums


def _to_album(row: RowMapping) -> Album:
    return Album(
        sku=row["sku"],
        title=row["title"],
        artist=row["artist"],
        genre=row["genre"],
        released=row["released"],
        price=Money(row["price_minor"], row["currency"]),
    )


def _to_row(album: Album) -> dict[str, object]:
    return {
        "sku": album.sku,
        "title": album.title,
        "artist": album.artist,
        "genre": album.genre,
        "released": album.released,
        "price_minor": album.price.amount_minor,
        "currency": album.price.currency,
    }


def _contains(column: Column[str], text: str) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


class SqlAlbumRepository:
    """Albums in the catalog's database, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, sku: str) -> Album:
        row = (await self.session.execute(select(albums).where(albums.c.sku == sku))).mappings().first()
        if row is None:
            raise AlbumNotFoundError(sku)
        return _to_album(row)

    async def add(self, album: Album) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(albums).values(_to_row(album)))
        except IntegrityError as exc:
            raise SkuAlreadyExistsError(album.sku) from exc

    async def save(self, album: Album) -> None:
        await self.session.execute(update(albums).where(albums.c.sku == album.sku).values(_to_row(album)))

    async def list(self, where: AlbumFilter, *, after: str | None, limit: int) -> list[Album]:
        """Albums in stock-keeping-id order, starting after ``after`` (keyset paging: stable under writes)."""
        query = select(albums).order_by(albums.c.sku).limit(limit)
        if after is not None:
            query = query.where(albums.c.sku > after)
        if where.genre:
            query = query.where(func.lower(albums.c.genre) == where.genre.lower())
        if where.artist:
            query = query.where(_contains(albums.c.artist, where.artist))
        if where.text:
            query = query.where(or_(_contains(albums.c.title, where.text), _contains(albums.c.artist, where.text)))
        rows = (await self.session.execute(query)).mappings().all()
        return [_to_album(row) for row in rows]


class SqlStore:
    """The catalog's albums and outbox over one session."""

    def __init__(self, session: AsyncSession, outbox: MessageWriter) -> None:
        self.albums = SqlAlbumRepository(session)
        self.announce = Announcer(session, outbox, event_of=event_of)


class DatabaseUnitOfWork:
    """Reads and transactions on the catalog's database, for its use cases."""

    def __init__(self, database: Database, outbox: MessageWriter) -> None:
        self.database = database
        self.outbox = outbox

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlStore]:
        async with self.database.read() as session:
            yield SqlStore(session, self.outbox)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlStore]:
        async with self.database.transaction() as session:
            yield SqlStore(session, self.outbox)
