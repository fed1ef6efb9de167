"""What identity's use cases need from the outside, as small Protocols: its store and its password hasher.

``store.py`` implements them over the database; the unit tests, in memory (tests/unit/fakes.py).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from identity.domain import Account, RefreshToken
from identity.signing import SigningKey


class Accounts(Protocol):
    async def add(self, account: Account) -> None:
        """Store a new account; raises ``EmailAlreadyRegisteredError`` if its email is taken."""
        ...

    async def get(self, account_id: str) -> Account:
        """The account; raises ``AccountNotFoundError``."""
        ...

    async def by_email(self, email: str) -> Account | None:
        """The account with this (normalised) email address, if any."""
        ...

    async def change_password_hash(self, account_id: str, password_hash: str) -> None: ...


class RefreshTokens(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def find(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token: RefreshToken) -> bool:
        """Record ``token.used_at`` unless it was used meanwhile; whether this call was the one that used it."""
        ...

    async def revoke_family(self, family_id: str, *, at: datetime) -> None: ...


class SigningKeys(Protocol):
    async def add(self, key: SigningKey) -> None: ...

    async def newest(self, count: int) -> list[SigningKey]:
        """The ``count`` most recently added keys, newest first."""
        ...

    async def remove_all_but_newest(self, count: int) -> None: ...


class Store(Protocol):
    """identity's tables within one transaction."""

    @property
    def accounts(self) -> Accounts: ...

    @property
    def refresh_tokens(self) -> RefreshTokens: ...

    @property
    def signing_keys(self) -> SigningKeys: ...


class UnitOfWork(Protocol):
    """Transactions on identity's store: use cases open them, so that slow work (hashing) stays outside."""

    def read(self) -> AbstractAsyncContextManager[Store]: ...

    def write(self) -> AbstractAsyncContextManager[Store]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one ``password_hash`` was made from."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than the current ones."""
        ...
