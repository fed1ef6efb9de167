"""In-memory stand-ins for the catalog's ports, shared by the unit tests.

They keep copies, as a database does: a change reaches the fake only through ``add`` or ``save``, so a
use case that forgets to save is caught; a write that raises leaves everything as it was, announced facts
included, as a rollback does.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import paved.testing

from catalog.domain import Album, AlbumFilter, AlbumNotFoundError, PriceChanged, SkuAlreadyExistsError


def _stored(album: Album) -> Album:
    return replace(copy.deepcopy(album), facts=[])


class FakeAlbumRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Album] = {}

    async def get(self, sku: str) -> Album:
        if sku not in self.rows:
            raise AlbumNotFoundError(sku)
        return _stored(self.rows[sku])

    async def add(self, album: Album) -> None:
        if album.sku in self.rows:
            raise SkuAlreadyExistsError(album.sku)
        self.rows[album.sku] = _stored(album)

    async def save(self, album: Album) -> None:
        assert album.sku in self.rows, f"{album.sku} saved before it was added"
        self.rows[album.sku] = _stored(album)

    async def list(self, where: AlbumFilter, *, after: str | None, limit: int) -> list[Album]:
        def matches(album: Album) -> bool:
            return (
                (after is None or album.sku > after)
                and (not where.genre or album.genre.lower() == where.genre.lower())
                and (not where.artist or where.artist.lower() in album.artist.lower())
                and (not where.text or where.text.lower() in f"{album.title}\n{album.artist}".lower())
            )

        return [_stored(a) for a in sorted(self.rows.values(), key=lambda a: a.sku) if matches(a)][:limit]


class FakeStore:
    def __init__(self) -> None:
        self.albums = FakeAlbumRepository()
        self.announced: list[PriceChanged] = []

    async def announce(self, fact: PriceChanged) -> None:
        self.announced.append(fact)


class FakeUnitOfWork(paved.testing.FakeUnitOfWork[FakeStore]):
    """Transactions over one FakeStore (paved's fake: a write that raises leaves the store as it was)."""

    def __init__(self) -> None:
        super().__init__(FakeStore())


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
