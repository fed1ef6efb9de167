from __future__ import annotations

from pathlib import Path

import pytest

from paved.manifest import ManifestError, discover, load_manifest


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "service.toml"
    path.write_text(text)
    return path


def test_a_valid_manifest_loads(tmp_path: Path) -> None:
    """name, app and port are all a service needs."""
    path = write(tmp_path / "catalog", 'name = "catalog"\napp = "catalog.app:create_service"\nport = 8101\n')
    manifest = load_manifest(path)
    assert (manifest.name, manifest.port, manifest.directory) == ("catalog", 8101, tmp_path / "catalog")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "catalog"\nport = 8101\n', "field 'app': Field required"),
        ('name = "catalog"\napp = "catalog.app:create_service"\nport = "eighty"\n', "field 'port'"),
        ('name = "catalog"\napp = "catalog.app:create_service"\nport = 80\n', "field 'port'"),
        ('name = "catalog"\napp = "catalog.app"\nport = 8101\n', "field 'app'"),
        ('name = "catalog"\napp = "catalog.app:create_service"\nport = 8101\nprot = 1\n', "field 'prot'"),
        ("name = \n", "is not valid TOML"),
    ],
)
def test_a_bad_manifest_says_which_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    """Missing, mistyped, out-of-range and unknown fields are each named, with the file."""
    path = write(tmp_path / "catalog", text)
    with pytest.raises(ManifestError, match=message) as raised:
        load_manifest(path)
    assert str(path) in str(raised.value)


def test_two_services_on_one_port_are_refused(tmp_path: Path) -> None:
    """Ports must be unique across services, and the error names both files."""
    write(tmp_path / "services" / "a", 'name = "a"\napp = "a.app:make"\nport = 8101\n')
    write(tmp_path / "services" / "b", 'name = "b"\napp = "b.app:make"\nport = 8101\n')
    with pytest.raises(ManifestError, match="port 8101 is also used by"):
        discover(tmp_path)
