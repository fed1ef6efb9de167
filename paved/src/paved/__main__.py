"""``python -m paved migrate|prepare|permissions|serve --service-dir DIR``: what runs inside one service's environment.

``paved up`` (the platform's CLI, distribution ``paved-platform``) and a production container both start a
service this way, with the service's own interpreter. It is argparse, not the platform's Typer CLI, so
that a service's production environment needs nothing beyond the library.

Exit codes: 2 a wrong command line, 3 the database or broker cannot be reached, 4 a migration or a stream
declaration failed. The last line on stderr is ``error: …``, which ``paved up`` shows as the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from paved.serve import CannotReachBroker, CannotReachDatabase, declare, permissions, serve
from paved.serve import migrate as run_migrations


class _Failed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _migrate(service_dir: Path) -> None:
    try:
        run_migrations(service_dir)
    except CannotReachDatabase as error:
        raise _Failed(str(error), 3) from error
    except Exception as error:  # any failure of a migration script: shown, with where it happened
        traceback.print_exc(file=sys.stderr, limit=-3)
        raise _Failed(f"migration failed: {type(error).__name__}: {error}", 4) from error


def _prepare(service_dir: Path) -> None:
    _migrate(service_dir)
    try:
        declare(service_dir)
    except CannotReachBroker as error:
        raise _Failed(str(error), 3) from error
    except Exception as error:  # e.g. the broker refusing a changed stream
        traceback.print_exc(file=sys.stderr, limit=-3)
        raise _Failed(f"declaring streams failed: {type(error).__name__}: {error}", 4) from error


def _permissions(service_dir: Path) -> None:
    print(json.dumps(permissions(service_dir), indent=2))


_COMMANDS = {
    "migrate": (_migrate, "apply the service's migrations to PAVED_DATABASE_URL"),
    "prepare": (_prepare, "migrate, then declare the service's streams and consumers (what `paved up` runs first)"),
    "permissions": (_permissions, "print as JSON what the service's broker user may do (what `paved up` grants it)"),
    "serve": (serve, "run the service's HTTP app with its database and broker until SIGTERM"),
}


def main(argv: list[str] | None = None) -> int:
    """Run one command for the service in ``--service-dir``; return the process's exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m paved", description="What runs inside one service's environment (`paved up` starts these)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in _COMMANDS.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--service-dir", type=Path, default=Path(), help="the service's folder (holding service.toml) [.]"
        )
    arguments = parser.parse_args(argv)
    run, _ = _COMMANDS[arguments.command]
    try:
        run(arguments.service_dir.resolve())
    except _Failed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
