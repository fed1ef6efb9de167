from __future__ import annotations

import os

import pytest

from paved.testing import postgres_is_reachable


@pytest.fixture
async def postgres_available() -> None:
    """Skip on a laptop without PostgreSQL; in CI (CI=true) its absence is a failure."""
    if not await postgres_is_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable, and CI must test the production path")
        pytest.skip("PostgreSQL is not reachable (set PAVED_TEST_POSTGRES_URL)")
