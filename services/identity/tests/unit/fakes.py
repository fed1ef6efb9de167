"""In-memory stand-ins for identity's ports, shared by the unit tests."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

import paved.testing

from identity.domain import Account, AccountNotFoundError, EmailAlreadyRegisteredError, RefreshToken
from identity.signing import SigningKey


class FakeAccounts:
    def __init__(self) -> None:
        self.rows: dict[str, Account] = {}

    async def add(self, account: Account) -> None:
        if any(row.email == account.email for row in self.rows.values()):
            raise EmailAlreadyRegisteredError
        self.rows[account.id] = account

    async def get(self, account_id: str) -> Account:
        if account_id not in self.rows:
            raise AccountNotFoundError(account_id)
        return copy.copy(self.rows[account_id])

    async def by_email(self, email: str) -> Account | None:
        return next((copy.copy(row) for row in self.rows.values() if row.email == email), None)

    async def change_password_hash(self, account_id: str, password_hash: str) -> None:
        self.rows[account_id].password_hash = password_hash


class FakeRefreshTokens:
    def __init__(self) -> None:
        self.rows: dict[str, RefreshToken] = {}

    async def add(self, token: RefreshToken) -> None:
        self.rows[token.token_hash] = token

    async def find(self, token_hash: str) -> RefreshToken | None:
        return self.rows.get(token_hash)

    async def mark_used(self, token: RefreshToken) -> bool:
        stored = self.rows[token.token_hash]
        if stored.used_at is not None or stored.revoked_at is not None:
            return False
        self.rows[token.token_hash] = replace(stored, used_at=token.used_at)
        return True

    async def revoke_family(self, family_id: str, *, at: datetime) -> None:
        for token_hash, row in self.rows.items():
            if row.family_id == family_id and row.revoked_at is None:
                self.rows[token_hash] = replace(row, revoked_at=at)


class FakeSigningKeys:
    def __init__(self) -> None:
        self.rows: list[SigningKey] = []

    async def add(self, key: SigningKey) -> None:
        self.rows.append(key)

    async def newest(self, count: int) -> list[SigningKey]:
        return list(reversed(self.rows))[:count]

    async def remove_all_but_newest(self, count: int) -> None:
        del self.rows[:-count]


class FakeStore:
    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.refresh_tokens = FakeRefreshTokens()
        self.signing_keys = FakeSigningKeys()


class FakeUnitOfWork(paved.testing.FakeUnitOfWork[FakeStore]):
    """Transactions over one FakeStore (paved's fake: a write that raises leaves the store as it was)."""

    def __init__(self) -> None:
        super().__init__(FakeStore())


class FakePasswords:
    """Hashes that are the password with a prefix: fast, and telling which parameters made them."""

    def __init__(self, *, current: str = "v2") -> None:
        self.current = current
        self.hashed: list[str] = []
        self.verified = 0

    async def hash(self, password: str) -> str:
        self.hashed.append(password)
        return f"{self.current}:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return password_hash.split(":", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"{self.current}:")
