"""The catalog's own tables, and the repository that maps them onto domain albums. Nobody else reads them."""

from __future__ import annotations

from dataclasses import dataclass

from paved.messaging import messaging_tables
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.domain import Album, AlbumNotFoundError, Money, SkuAlreadyExistsError

metadata = MetaData()

albums = Table(
    "albums",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("artist", String(300), nullable=False),
    Column("genre", String(60), nullable=False, index=True),
    Column("released", Integer, nullable=False),
    Column("price_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)


# paved's outbox and inbox live in the catalog's own database, beside its albums.
messaging = messaging_tables(metadata)


@dataclass(frozen=True)
class AlbumFilter:
    genre: str | None = None
    artist: str | None = None
    text: str | None = None


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


def _contains(column: Column[str], text: str) -> object:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


class AlbumRepository:
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
