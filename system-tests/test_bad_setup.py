"""Each bad set-up gets a clear message and a non-zero exit, with nothing left half-started."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conftest import ROOT, PavedUp, processes_using

CATALOG = ROOT / "services" / "catalog"
GOOD_MANIFEST = (CATALOG / "service.toml").read_text()


def project_with(tmp_path: Path, manifest: str, *, migrations: Path = CATALOG / "migrations") -> Path:
    """A project folder holding the real catalog (linked), with its own service.toml."""
    service = tmp_path / "project" / "services" / "catalog"
    service.mkdir(parents=True)
    for part in ("src", ".venv", "pyproject.toml"):
        (service / part).symlink_to(CATALOG / part)
    (service / "migrations").symlink_to(migrations)
    (service / "service.toml").write_text(manifest)
    return tmp_path / "project"


def assert_nothing_left(state: Path) -> None:
    assert processes_using(state) == []
    assert not (state / "run.json").exists()


def test_a_taken_port(tmp_path: Path, state: Path) -> None:
    """A port in use is named with the service and the file that sets it; exit 2."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        root = project_with(tmp_path, GOOD_MANIFEST.replace("port = 8101", f"port = {port}"))
        code, output = PavedUp(state, root=root).run_to_exit()
    assert code == 2
    assert f"port {port} for catalog is already in use" in output
    assert "service.toml" in output
    assert_nothing_left(state)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (GOOD_MANIFEST.replace('app = "catalog.app:create_service"\n', ""), "field 'app': Field required"),
        (GOOD_MANIFEST.replace("port = 8101", 'port = "8101x"'), "field 'port'"),
        (GOOD_MANIFEST.replace("port = 8101", "port = 8101\nreplicas = 3"), "field 'replicas'"),
    ],
    ids=["missing-field", "wrong-type", "unknown-field"],
)
def test_a_bad_service_toml(tmp_path: Path, state: Path, manifest: str, message: str) -> None:
    """A missing, mistyped or unknown field in service.toml is named with its file; exit 2."""
    root = project_with(tmp_path, manifest)
    code, output = PavedUp(state, root=root).run_to_exit()
    assert code == 2
    assert message in output
    assert "services/catalog/service.toml" in output
    assert_nothing_left(state)


def test_an_unreachable_database(state: Path) -> None:
    """A database URL that leads nowhere is reported as such (password hidden); exit 1, NATS stopped."""
    url = "postgresql+asyncpg://catalog:s3cret@127.0.0.1:1/catalog"
    code, output = PavedUp(state, "--free-ports", "--database-url", f"catalog={url}").run_to_exit()
    assert code == 1
    assert "cannot reach the database at postgresql+asyncpg://catalog:***@127.0.0.1:1/catalog" in output
    assert "s3cret" not in output
    assert_nothing_left(state)


def test_a_failing_migration(tmp_path: Path, state: Path) -> None:
    """A migration that raises stops the start-up with its error; exit 1, nothing left running."""
    migrations = tmp_path / "broken-migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text((CATALOG / "migrations" / "env.py").read_text())
    (migrations / "versions" / "0001_broken.py").write_text(
        'revision = "0001"\ndown_revision = None\n\n'
        "def upgrade():\n    raise ValueError('column price has no default for existing rows')\n"
    )
    root = project_with(tmp_path, GOOD_MANIFEST, migrations=migrations)
    code, output = PavedUp(state, "--free-ports", root=root).run_to_exit()
    assert code == 1
    assert "catalog: " in output and "migration failed: ValueError: column price has no default" in output
    assert_nothing_left(state)


def test_an_unknown_service_in_database_url(state: Path) -> None:
    """--database-url for a service that does not exist is refused before anything starts."""
    code, output = PavedUp(state, "--database-url", "ctalog=sqlite+aiosqlite:///x.db").run_to_exit()
    assert code == 2 and "names no service with a database: ctalog" in output
    assert_nothing_left(state)
