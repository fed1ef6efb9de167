"""``service.toml``: what ``paved up`` needs to know to run one service."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MANIFEST = "service.toml"


class ManifestError(Exception):
    """A ``service.toml`` that cannot be used; the message says which file and field, and why."""


class ServiceManifest(BaseModel):
    """One service's ``service.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$", description="the service's name")
    app: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' returning the paved Service, e.g. 'catalog.app:create_service'",
    )
    port: int = Field(ge=1024, le=65535, description="the HTTP port `paved up` gives it")
    description: str = ""
    token_audience: str | None = Field(
        default=None,
        description="set on the one service that issues access tokens: the audience its tokens carry; "
        "`paved up` then points every service's token verification at it",
    )
    client_scopes: list[str] = Field(
        default_factory=list,
        description="scopes the service needs as an OAuth2 client when it calls others (client-credentials "
        "tokens from the token issuer)",
    )
    edge: bool = Field(
        default=False,
        description="set on the service browsers call (web-bff): `paved up` serves it on plain HTTP on loopback, "
        "as an ingress would terminate TLS before it; it still calls the others with its certificate",
    )
    directory: Path = Field(default=Path(), exclude=True)

    @property
    def has_database(self) -> bool:
        """Whether it keeps a database of its own: it ships migrations for one (``python -m paved migrate``)."""
        return (self.directory / "migrations").is_dir()

    @property
    def python(self) -> str:
        """The service's own interpreter (its ``.venv``), else the one running paved."""
        own = self.directory / ".venv" / "bin" / "python"
        return str(own) if own.exists() else sys.executable


def load_manifest(path: Path) -> ServiceManifest:
    """Read and check one ``service.toml``."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: is not valid TOML ({exc})") from exc
    try:
        return ServiceManifest.model_validate({**raw, "directory": path.parent})
    except ValidationError as exc:
        problems = "; ".join(f"field '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise ManifestError(f"{path}: {problems}") from exc


def discover(root: Path) -> list[ServiceManifest]:
    """Every service under ``root/services``, checked together: names and ports must be unique."""
    paths = sorted((root / "services").glob(f"*/{MANIFEST}"))
    if not paths:
        raise ManifestError(f"no services found: {root / 'services'}/*/{MANIFEST} matches nothing")
    manifests = [load_manifest(path) for path in paths]
    for attribute in ("name", "port"):
        seen: dict[object, Path] = {}
        for manifest in manifests:
            value = getattr(manifest, attribute)
            if value in seen:
                raise ManifestError(
                    f"{manifest.directory / MANIFEST}: {attribute} {value!r} is also used by {seen[value] / MANIFEST}"
                )
            seen[value] = manifest.directory
    return manifests
