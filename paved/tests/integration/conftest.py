from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paved.platform.nats import EmbeddedNats, start_nats


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A JetStream server of the test's own, with its store in the test's folder."""
    server = start_nats(state_dir=tmp_path / "broker", log_path=tmp_path / "nats.log")
    yield server
    server.stop()
