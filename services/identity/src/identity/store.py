"""identity's repositories and unit of work: the only code that knows its tables (``tables.py``), mapping
them onto its domain."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from paved import Database
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from identity.domain import Account, AccountNotFoundError, EmailAlreadyRegisteredError, RefreshToken
from identity.signing import SigningKey
from identity.tables import accounts, refresh_tokens, signing_keys


def _account(row: RowMapping) -> Account:
    return Account(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        role=row["role"],
        created_at=row["created_at"],
    )


def _refresh_token(row: RowMapping) -> RefreshToken:
    return RefreshToken(
        token_hash=row["token_hash"],
        family_id=row["family_id"],
        account_id=row["account_id"],
        scopes=frozenset(row["scope"].split()),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        revoked_at=row["revoked_at"],
    )


def _signing_key(row: RowMapping) -> SigningKey:
    private_jwk: dict[str, Any] = json.loads(row["private_jwk"])
    return SigningKey(kid=row["kid"], algorithm=row["algorithm"], private_jwk=private_jwk, created_at=row["created_at"])


class AccountRepository:
    """Accounts, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, account: Account) -> None:
        row = {
            "id": account.id,
            "email": account.email,
            "password_hash": account.password_hash,
            "role": account.role,
            "created_at": account.created_at,
        }
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(accounts).values(row))
        except IntegrityError as exc:
            raise EmailAlreadyRegisteredError from exc

    async def get(self, account_id: str) -> Account:
        row = (await self.session.execute(select(accounts).where(accounts.c.id == account_id))).mappings().first()
        if row is None:
            raise AccountNotFoundError(account_id)
        return _account(row)

    async def by_email(self, email: str) -> Account | None:
        row = (await self.session.execute(select(accounts).where(accounts.c.email == email))).mappings().first()
        return _account(row) if row is not None else None

    async def change_password_hash(self, account_id: str, password_hash: str) -> None:
        await self.session.execute(
            update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash)
        )


class RefreshTokenRepository:
    """Refresh-token records (hashes, never tokens), within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: RefreshToken) -> None:
        await self.session.execute(
            insert(refresh_tokens).values(
                token_hash=token.token_hash,
                family_id=token.family_id,
                account_id=token.account_id,
                scope=" ".join(sorted(token.scopes)),
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
            )
        )

    async def find(self, token_hash: str) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self.session.execute(query)).mappings().first()
        return _refresh_token(row) if row is not None else None

    async def mark_used(self, token: RefreshToken) -> bool:
        # One statement that only succeeds on an unused token: of two concurrent uses, exactly one wins
        # (PostgreSQL's row lock, SQLite's single writer).
        statement = (
            update(refresh_tokens)
            .where(
                refresh_tokens.c.token_hash == token.token_hash,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=token.used_at)
        )
        # An UPDATE's result is a cursor result: it has the row count.
        result = cast("CursorResult[Any]", await self.session.execute(statement))
        return result.rowcount == 1

    async def revoke_family(self, family_id: str, *, at: datetime) -> None:
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SigningKeyRepository:
    """Signing keys, private halves included, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: SigningKey) -> None:
        await self.session.execute(
            insert(signing_keys).values(
                kid=key.kid, algorithm=key.algorithm, private_jwk=json.dumps(key.private_jwk), created_at=key.created_at
            )
        )

    async def newest(self, count: int) -> list[SigningKey]:
        query = select(signing_keys).order_by(signing_keys.c.id.desc()).limit(count)
        return [_signing_key(row) for row in (await self.session.execute(query)).mappings()]

    async def remove_all_but_newest(self, count: int) -> None:
        kept = select(signing_keys.c.id).order_by(signing_keys.c.id.desc()).limit(count)
        await self.session.execute(delete(signing_keys).where(signing_keys.c.id.not_in(kept)))


class SqlStore:
    """identity's repositories over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.accounts = AccountRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.signing_keys = SigningKeyRepository(session)


class DatabaseUnitOfWork:
    """Transactions on identity's database, for the use cases."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlStore]:
        async with self.database.read() as session:
            yield SqlStore(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlStore]:
        async with self.database.transaction() as session:
            yield SqlStore(session)
