from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from paved.testing import migrated_database

from .conftest import MIGRATIONS, NAME
from .values import DECLINED_CARD, GOOD_CARD, NOT_A_CARD, Start, charge_body, key


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A SQLite database only: this test reads the database's files themselves."""
    async with migrated_database("sqlite", migrations=MIGRATIONS, name=NAME, folder=tmp_path) as url:
        yield url


def _stored(folder: Path) -> bytes:
    """The bytes of the SQLite database's files in ``folder``, its write-ahead log too."""
    return b"".join(path.read_bytes() for path in folder.glob(f"{NAME}.db*"))


async def test_no_full_card_number_reaches_the_database_or_the_logs(
    start: Start, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After charges, replays, a declined card and a refused number, no full card number is in the files or logs."""
    async with start() as client:
        for card, idempotency_key in (
            (GOOD_CARD, "k-1"),
            (GOOD_CARD, "k-1"),
            (DECLINED_CARD, "k-2"),
            (NOT_A_CARD, "k-3"),
        ):
            await client.post("/charges", json=charge_body(card=card), headers=key(idempotency_key))
    stored = await asyncio.to_thread(_stored, tmp_path)
    logged = capsys.readouterr()
    # The checks read the right places: the last four digits are stored, and the charges were logged.
    assert b"4242" in stored
    assert "charge answered" in logged.out + logged.err
    for card in (GOOD_CARD, DECLINED_CARD, NOT_A_CARD):
        assert card.encode() not in stored
        assert card not in logged.out + logged.err
