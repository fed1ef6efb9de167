from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import PAVED, ROOT, PavedUp, processes_using, wait_ready

NEW_ALBUM = {
    "sku": "SYS-0001",
    "title": "Blue Train",
    "artist": "John Coltrane",
    "genre": "Jazz",
    "released": 1958,
    "price": {"amount_minor": 1199, "currency": "GBP"},
}


def test_up_serves_the_catalogue_and_reports_status(shop: PavedUp) -> None:
    """After `paved up`, the catalog lists albums, and `paved status` and `paved logs` show it running."""
    with shop.client("catalog", as_="web-bff") as catalog:
        albums = catalog.get("/albums").json()
    assert len(albums["items"]) == 20 and albums["next_cursor"]
    status = subprocess.run(
        [PAVED, "status", "--state-dir", shop.state], capture_output=True, text=True, check=True
    ).stdout
    assert "catalog" in status and "ready" in status and "nats" in status
    logs = subprocess.run(
        [PAVED, "logs", "catalog", "--state-dir", shop.state], capture_output=True, text=True, check=True
    ).stdout
    assert '"service": "catalog"' in logs and '"event": "request"' in logs
    assert "MusicCorp on paved: running" in shop.output


def test_a_killed_service_is_restarted_and_keeps_its_data(shop: PavedUp) -> None:
    """SIGKILL of the catalog: paved up says so, restarts it, and what was written is still there."""
    with shop.client("catalog") as operator:
        created = operator.post("/albums", json=NEW_ALBUM, headers=shop.admin_headers())
    assert created.status_code == 201
    old_pid = shop.pid("catalog")
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while shop.pid("catalog") == old_pid:
        assert time.monotonic() < deadline, shop.output
        time.sleep(0.1)
    wait_ready(shop, "catalog")
    with shop.client("catalog", as_="web-bff") as catalog:
        assert catalog.get("/albums/SYS-0001").json() == NEW_ALBUM
    assert "catalog killed by SIGKILL; restarting" in shop.output
    assert shop.run_info()["services"]["catalog"]["restarts"] == 1


def test_ctrl_c_stops_everything(state: Path) -> None:
    """SIGINT (Ctrl-C) stops the services and NATS, exits 0, and leaves no process behind."""
    up = PavedUp(state, "--free-ports").start().wait_until_running()
    pids = [up.pid("catalog"), int(up.run_info()["nats"]["pid"])]
    assert up.stop(signal.SIGINT) == 0
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert processes_using(state) == []
    assert not (state / "run.json").exists()


def test_paved_down_stops_it_and_data_survives_the_next_up(state: Path) -> None:
    """Data written before `paved down` is there after the next `paved up` (state lives in .paved/)."""
    first = PavedUp(state, "--free-ports").start().wait_until_running()
    with first.client("catalog") as operator:
        operator.post("/albums", json=NEW_ALBUM, headers=first.admin_headers()).raise_for_status()
    down = subprocess.run([PAVED, "down", "--state-dir", state], capture_output=True, text=True, timeout=90)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert first.process is not None and first.process.wait(timeout=5) == 0
    assert processes_using(state) == []
    second = PavedUp(state, "--free-ports").start().wait_until_running()
    try:
        catalog = second.client("catalog", as_="web-bff")
        assert catalog.get("/albums/SYS-0001").json() == NEW_ALBUM
        # Migrations ran again at start-up and changed nothing: the seed is not loaded twice.
        listed = catalog.get("/albums", params={"q": "Blue Train"}).json()["items"]
        assert [a["sku"] for a in listed].count("SYS-0001") == 1
        first_seeded = catalog.get("/albums/ALB-00001").json()
        same_title = catalog.get("/albums", params={"q": first_seeded["title"]}).json()
        assert [a["sku"] for a in same_title["items"]].count("ALB-00001") == 1
    finally:
        second.stop()
    assert processes_using(state) == []


def test_killing_paved_up_itself_orphans_nothing(state: Path) -> None:
    """Even SIGKILL of `paved up` takes its services and NATS down with it (parent-death signal)."""
    up = PavedUp(state, "--free-ports").start().wait_until_running()
    up.stop(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while processes_using(state):
        assert time.monotonic() < deadline, processes_using(state)
        time.sleep(0.2)


def test_status_and_down_when_nothing_runs(state: Path) -> None:
    """`paved status` says nothing runs (exit 3); `paved down` has nothing to do (exit 0)."""
    status = subprocess.run([PAVED, "status", "--state-dir", state], capture_output=True, text=True)
    assert status.returncode == 3 and "not running" in status.stdout
    down = subprocess.run([PAVED, "down", "--state-dir", state], capture_output=True, text=True)
    assert down.returncode == 0 and "not running" in down.stdout
    logs = subprocess.run([PAVED, "logs", "nobody", "--state-dir", state], capture_output=True, text=True)
    assert logs.returncode == 2 and "no log for 'nobody'" in logs.stderr


def test_a_second_up_on_the_same_state_is_refused(shop: PavedUp) -> None:
    """Two platforms on one state folder would share databases: the second is refused, the first unharmed."""
    code, output = PavedUp(shop.state, "--free-ports").run_to_exit()
    assert code == 2
    assert "already running" in output and "paved down" in output
    wait_ready(shop, "catalog")


def test_the_project_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    """Inside a service's folder paved finds the project above it; outside any project it says so."""
    inside = subprocess.run([PAVED, "status"], cwd=ROOT / "services" / "catalog", capture_output=True, text=True)
    assert inside.returncode in (0, 3), inside.stderr  # running or not, the project was found
    outside = subprocess.run([PAVED, "status"], cwd=tmp_path, capture_output=True, text=True)
    assert outside.returncode == 2
    assert "no services/*/service.toml" in outside.stderr and "--root" in outside.stderr
