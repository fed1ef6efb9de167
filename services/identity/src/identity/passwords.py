"""Password hashing with Argon2id (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")


class Argon2Passwords:
    """Argon2id hashes with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes).

    Hashing takes tens of milliseconds of CPU and 64 MiB on purpose, so it runs in a worker thread (the
    event loop keeps serving meanwhile), and no more hashes run at once than there are cores: a burst of
    sign-ins queues instead of taking all memory (a bulkhead).

    Args:
        hasher: the parameters; tests pass cheap ones, production keeps the default.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = asyncio.Semaphore(os.cpu_count() or 1)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        async with self._slots:
            return await asyncio.to_thread(work, *args)

    async def hash(self, password: str) -> str:
        """A new salted hash of ``password``."""
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a hash that cannot be read matches nothing."""
        try:
            return await self._run(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones (then hash again at sign-in)."""
        return self._hasher.check_needs_rehash(password_hash)
