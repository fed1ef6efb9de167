"""The shop on RabbitMQ: `paved up --broker-url amqp://…` runs every service on it instead of NATS."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from paved_platform.testing import running_rabbitmq

from conftest import PAVED, PavedUp, wait_ready
from test_prepare import prepare

pytestmark = pytest.mark.rabbitmq


def test_paved_up_runs_the_shop_on_a_rabbitmq_broker(tmp_path: Path) -> None:
    """Every service is ready on RabbitMQ, an admin write publishes through the outbox, the CLI reads the broker."""
    with running_rabbitmq() as node:
        shop = PavedUp(tmp_path / "state", "--free-ports", "--broker-url", node.url).start()
        try:
            shop.wait_until_running()
            assert "nats" not in shop.run_info() or shop.run_info()["nats"] is None  # no NATS of its own
            wait_ready(shop, "catalog")
            catalog = shop.client("catalog")
            assert catalog.get("/health/ready").json()["checks"]["broker"] == "up"
            changed = catalog.put(
                "/albums/ALB-00001/price",
                json={"price": {"amount_minor": 1299, "currency": "GBP"}},
                headers=shop.admin_headers(),
            )
            assert changed.status_code == 200, changed.text
            letters = subprocess.run(
                [PAVED, "dlq", "list", "--state-dir", str(shop.state)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert letters.returncode == 0 and "no dead letters" in letters.stdout, letters.stdout + letters.stderr
        finally:
            assert shop.stop() == 0, shop.output
    log = (shop.state / "logs" / "catalog.log").read_text()
    assert "outbox relay failed" not in log
    assert "messages reached no queue" in log  # the relay sent PriceChanged; RabbitMQ confirmed it (no consumer yet)


def test_prepare_says_which_rabbitmq_it_cannot_reach(tmp_path: Path) -> None:
    """A wrong amqp:// URL is a clear error naming the broker, not a traceback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"amqp://guest:guest@127.0.0.1:{probe.getsockname()[1]}/"
    result = prepare(tmp_path, closed)
    assert result.returncode == 3, result.stderr
    assert "cannot reach RabbitMQ at" in result.stderr
