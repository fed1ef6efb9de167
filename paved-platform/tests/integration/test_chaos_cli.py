"""`paved chaos` against a real Envoy, found as `paved up` records it, and `paved up`'s own proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paved.manifest import discover
from rich.console import Console

from paved_platform.faults import Fault, FaultProxy, running_fault_proxy
from paved_platform.state import StateDir
from paved_platform.up import Platform, SetupError

pytestmark = pytest.mark.envoy


def paved(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paved_platform", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[FaultProxy, Path]]:
    """A fault proxy in front of two services, recorded in a state folder as a running `paved up` records it."""
    with running_fault_proxy({"catalog": "http://127.0.0.1:1", "order": "http://127.0.0.1:2"}) as proxy:
        assert proxy.process is not None
        StateDir(tmp_path).write_run(
            {
                # This test's own pid stands in for `paved up`'s: what matters is that it is alive.
                "pid": os.getpid(),
                "proxy": {"pid": proxy.process.pid, "admin_url": proxy.admin_url},
                "services": {},
            }
        )
        yield proxy, tmp_path


def test_chaos_adds_lists_and_takes_away_faults_in_the_running_shop(shop: tuple[FaultProxy, Path]) -> None:
    """--delay and --abort set what Envoy then reports; the bare command lists it; --clear and --clear-all undo it."""
    proxy, state = shop
    delayed = paved("chaos", "catalog", "--delay", "500ms", "--percent", "50", "--state-dir", str(state))
    assert delayed.returncode == 0, delayed.stderr
    assert "delay 0.5s for 50%" in delayed.stdout
    assert paved("chaos", "order", "--abort", "503", "--state-dir", str(state)).returncode == 0
    assert proxy.faults() == {
        "catalog": Fault(delay_seconds=0.5, delay_percent=50),
        "order": Fault(abort_status=503, abort_percent=100),
    }
    listed = paved("chaos", "--state-dir", str(state))
    assert "delay 0.5s for 50%" in listed.stdout and "abort with 503 for 100%" in listed.stdout, listed.stdout

    assert paved("chaos", "catalog", "--clear", "--state-dir", str(state)).returncode == 0
    assert proxy.faults()["catalog"] == Fault() and proxy.faults()["order"] != Fault()
    assert paved("chaos", "--clear-all", "--state-dir", str(state)).returncode == 0
    assert proxy.faults() == {"catalog": Fault(), "order": Fault()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["payment", "--delay", "1s"], "no service 'payment' in the running shop; it has: catalog, order"),
        (["catalog", "--delay", "soon"], "write it as 2s, 1.5s or 500ms"),
        (["catalog", "--delay", "1s", "--abort", "700"], "Invalid value for '--abort'"),
        (["--delay", "1s"], "name the service"),
        (["catalog", "--clear", "--abort", "503"], "--clear takes faults away"),
    ],
)
def test_chaos_says_what_is_wrong_and_changes_nothing(
    shop: tuple[FaultProxy, Path], args: list[str], message: str
) -> None:
    """An unknown service, a bad delay or status, or options that contradict each other: exit 2 and why."""
    proxy, state = shop
    result = paved("chaos", *args, "--state-dir", str(state))
    assert result.returncode == 2 and message in " ".join(result.stderr.split()), result.stderr
    assert proxy.faults() == {"catalog": Fault(), "order": Fault()}


def test_chaos_without_a_running_shop_says_to_start_one(tmp_path: Path) -> None:
    """No `paved up` in the state folder: the command says to run it."""
    result = paved("chaos", "catalog", "--delay", "1s", "--state-dir", str(tmp_path))
    assert result.returncode == 2 and "start the shop with `paved up`" in result.stderr


def platform_of(tmp_path: Path) -> Platform:
    """A `paved up` of two services, checked and told about each other, nothing started."""
    for name, port in (("catalog", 8101), ("order", 8104)):
        folder = tmp_path / "services" / name
        folder.mkdir(parents=True)
        (folder / "service.toml").write_text(f'name = "{name}"\napp = "{name}.app:create_service"\nport = {port}\n')
    platform = Platform(
        manifests=discover(tmp_path),
        state=StateDir(tmp_path / ".paved"),
        console=Console(quiet=True),
        free_ports=True,
    )
    platform._preflight()
    platform._issue_certificates()
    return platform


def test_paved_ups_proxy_listens_where_the_services_were_told_and_stops_with_it(tmp_path: Path) -> None:
    """Envoy's listener for each service is on the port its callers got in PAVED_<NAME>_URL, forwarding to the service."""
    platform = platform_of(tmp_path)
    platform._start_proxy()
    proxy = platform.proxy
    assert proxy is not None and proxy.process is not None
    catalog, order = platform.services
    assert proxy.url("catalog") == order.env["PAVED_CATALOG_URL"] == catalog.proxy_url
    assert FaultProxy.attach(proxy.admin_url, scheme="https").url("order") == catalog.env["PAVED_ORDER_URL"]
    process = proxy.process
    platform._stop_everything()
    assert process.poll() is not None


def test_paved_up_stops_with_a_clear_error_when_envoy_cannot_start(tmp_path: Path) -> None:
    """A listener port taken since the checks: a SetupError naming the fault proxy and Envoy's reason."""
    platform = platform_of(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", platform.services[0].proxy_port))
        taken.listen()
        with pytest.raises(SetupError, match=r"fault proxy \(Envoy\) did not start: .*Address already in use"):
            platform._start_proxy()
    assert platform.proxy is None
