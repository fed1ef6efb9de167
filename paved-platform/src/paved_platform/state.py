"""``.paved/``: where the local platform keeps data, logs, secrets and what is running now."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StateDir:
    """The layout of the state folder; everything in it survives ``paved down``, but ``run.json``."""

    path: Path

    @property
    def run_file(self) -> Path:
        return self.path / "run.json"

    @property
    def pki(self) -> Path:
        """The local certificate authority, and a folder of certificate, key and CA per workload."""
        return self.path / "pki"

    def log(self, name: str) -> Path:
        return self.path / "logs" / f"{name}.log"

    def sqlite_url(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{self.path / 'data' / f'{service}.db'}"

    def secret(self, name: str) -> str:
        """A random secret, made on first use and kept in ``secrets/NAME`` (readable by its owner only)."""
        path = self.path / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def write_run(self, run: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.run_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(run, indent=2))
        os.replace(temporary, self.run_file)

    def read_run(self) -> dict[str, Any] | None:
        try:
            run: dict[str, Any] = json.loads(self.run_file.read_text())
            return run
        except (OSError, json.JSONDecodeError):
            return None

    def clear_run(self) -> None:
        self.run_file.unlink(missing_ok=True)
