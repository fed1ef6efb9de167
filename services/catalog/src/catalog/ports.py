"""What the catalog's use cases need from outside, as small Protocols.

``store.py`` implements them over the database and the outbox; the unit tests, in memory
(``tests/unit/fakes.py``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from catalog.domain import Album, AlbumFilter, PriceChanged


class AlbumRepository(Protocol):
    async def get(self, sku: str) -> Album:
        """The album; raises ``AlbumNotFoundError``."""
        ...

    async def add(self, album: Album) -> None:
        """Store a new album; raises ``SkuAlreadyExistsError`` (and stores nothing) if its sku is taken."""
        ...

    async def save(self, album: Album) -> None: ...

    async def list(self, where: AlbumFilter, *, after: str | None, limit: int) -> list[Album]:
        """Up to ``limit`` albums in stock-keeping-id order, starting after ``after``."""
        ...


class Store(Protocol):
    """The catalog's albums and outbox within one transaction."""

    @property
    def albums(self) -> AlbumRepository: ...

    async def announce(self, fact: PriceChanged) -> None:
        """Publish ``fact`` if and only if this transaction commits."""
        ...


class UnitOfWork(Protocol):
    def read(self) -> AbstractAsyncContextManager[Store]: ...

    def write(self) -> AbstractAsyncContextManager[Store]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...
