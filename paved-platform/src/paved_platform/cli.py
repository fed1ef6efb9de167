"""The ``paved`` command: the local platform (``paved up``, ``status``, ``logs``, ``chaos``, ``dlq``, ``sagas``…).

What runs inside a service's own environment (``migrate``, ``prepare``, ``serve``) is the library's
``python -m paved``, which ``paved up`` starts with each service's interpreter.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

import httpx
import typer
from paved.manifest import ManifestError, discover
from rich.console import Console
from rich.table import Table

from paved_platform import processes
from paved_platform.faults import FaultProxy, FaultProxyError
from paved_platform.nats import PLATFORM_USER, BrokerUser, with_credentials
from paved_platform.state import StateDir
from paved_platform.up import Platform, default_console

if TYPE_CHECKING:
    from paved.messaging import DeadLetter, Transport

T = TypeVar("T")

app = typer.Typer(help="The paved road: run MusicCorp's services locally.", no_args_is_help=True)
console = default_console()
errors = Console(highlight=False, soft_wrap=True, stderr=True)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="The project folder (holding services/); found from here when omitted.",
    ),
]
StateOption = Annotated[
    Path | None,
    typer.Option("--state-dir", help="Where data, logs and secrets live [ROOT/.paved]."),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _find_root(root: Path | None) -> Path:
    if root is not None:
        return root.resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if any((folder / "services").glob("*/service.toml")):
            return folder
    raise _fail(f"no services/*/service.toml in {here} or above: run this in the project, or pass --root")


def _state(root: Path | None, state_dir: Path | None) -> StateDir:
    return StateDir((state_dir or _find_root(root) / ".paved").resolve())


@app.command()
def up(
    root: RootOption = None,
    state_dir: StateOption = None,
    free_ports: Annotated[
        bool,
        typer.Option(
            "--free-ports",
            help="Give services free ports instead of their service.toml ports.",
        ),
    ] = False,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            "--database-url",
            help="SERVICE=URL: use this database instead of .paved/data/SERVICE.db.",
        ),
    ] = None,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for every service to be ready.")] = 60.0,
    cert_lifetime: Annotated[
        float,
        typer.Option(
            envvar="PAVED_CERT_LIFETIME_SECONDS",
            min=10,
            help="Seconds each workload certificate is valid; renewed at two thirds of it, with no restart.",
        ),
    ] = 3600.0,
    broker_url: Annotated[
        str | None,
        typer.Option(
            "--broker-url",
            envvar="PAVED_BROKER_URL",
            help="Run on this broker (nats://… or amqp://… for RabbitMQ) instead of starting NATS.",
        ),
    ] = None,
) -> None:
    """Start NATS, migrate and start every service, wait until all are ready; Ctrl-C stops all."""
    project = _find_root(root)
    try:
        manifests = discover(project)
    except ManifestError as error:
        raise _fail(str(error)) from error
    urls = _database_urls(database_url)
    platform = Platform(
        manifests=manifests,
        state=_state(project, state_dir),
        console=default_console(),
        free_ports=free_ports,
        database_urls=urls,
        ready_timeout=ready_timeout,
        broker_url=broker_url,
        cert_lifetime=timedelta(seconds=cert_lifetime),
    )
    raise typer.Exit(platform.run())


@app.command()
def down(root: RootOption = None, state_dir: StateOption = None) -> None:
    """Stop a running `paved up` (it stops its services, then NATS)."""
    state = _state(root, state_dir)
    run = state.read_run()
    if not run or not processes.is_alive(int(run["pid"])):
        console.print("paved is not running")
        return
    os.kill(int(run["pid"]), signal.SIGTERM)
    if not processes.wait_gone(int(run["pid"]), timeout=60):
        raise _fail(f"paved up (pid {run['pid']}) did not stop within 60s", 1)
    console.print("stopped")


@app.command()
def status(root: RootOption = None, state_dir: StateOption = None) -> None:
    """Show what `paved up` runs, where, and whether each service is ready."""
    state = _state(root, state_dir)
    run = state.read_run()
    if not run or not processes.is_alive(int(run["pid"])):
        console.print("paved is not running (start it with `paved up`)")
        raise typer.Exit(3)
    table = Table(title=f"paved up (pid {run['pid']})")
    for column in ("service", "url", "called via", "pid", "state", "restarts", "database"):
        table.add_column(column)
    ca_file = run.get("tls", {}).get("ca_file")
    verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(timeout=1.0, verify=verify) as http:
        for name, service in run["services"].items():
            try:
                ready = http.get(f"{service['url']}/health/ready").status_code == 200
            except httpx.HTTPError:
                ready = False
            table.add_row(
                name,
                service["url"],
                service.get("proxy_url", ""),
                str(service["pid"]),
                "[green]ready[/]" if ready else "[red]not ready[/]",
                str(service["restarts"]),
                service["database"],
            )
    if run.get("nats"):
        table.add_row("nats", run["nats"]["url"], "", str(run["nats"]["pid"]), "", "", "")
    if run.get("proxy"):
        table.add_row("envoy", run["proxy"]["admin_url"], "", str(run["proxy"]["pid"]), "", "", "")
    console.print(table)


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="A service name, or 'nats'.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Print a service's log (JSON lines)."""
    state = _state(root, state_dir)
    path = state.log(service)
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.log")) if path.parent.exists() else []
        raise _fail(f"no log for {service!r}; logs exist for: {', '.join(known) or 'nothing yet'}")
    with path.open() as log:
        sys.stdout.write(log.read())
        sys.stdout.flush()
        while follow:
            line = log.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.2)


def _running_proxy(root: Path | None, state_dir: Path | None) -> FaultProxy:
    run = _state(root, state_dir).read_run()
    if not run or not processes.is_alive(int(run["pid"])):
        raise _fail("paved is not running here: start the shop with `paved up`, then add faults")
    if not run.get("proxy"):
        raise _fail("this `paved up` runs no fault proxy (it predates `paved chaos`): restart it with `paved up`")
    try:
        return FaultProxy.attach(str(run["proxy"]["admin_url"]), scheme="https")
    except FaultProxyError as error:
        raise _fail(f"{error}; see `paved logs envoy`", 1) from error


def _seconds(delay: str) -> float:
    """``2s``, ``1.5s`` or ``500ms`` in seconds."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", delay.strip())
    if not found:
        raise _fail(f"--delay {delay!r}: write it as 2s, 1.5s or 500ms")
    return float(found[1]) / (1000 if found[2] == "ms" else 1)


@app.command()
def chaos(
    service: Annotated[
        str | None,
        typer.Argument(help="The service whose incoming calls to change; without one, list the faults."),
    ] = None,
    delay: Annotated[str | None, typer.Option(help="Hold calls this long first: 2s, 500ms.")] = None,
    abort: Annotated[
        int | None, typer.Option(min=200, max=599, help="Answer calls with this HTTP status instead.")
    ] = None,
    percent: Annotated[int, typer.Option(min=0, max=100, help="The share of calls the fault hits.")] = 100,
    clear: Annotated[bool, typer.Option("--clear", help="Take the service's faults away.")] = False,
    clear_all: Annotated[bool, typer.Option("--clear-all", help="Take every service's faults away.")] = False,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Delay or fail a share of the calls services make to SERVICE in the running shop, or take that away."""
    changes = delay is not None or abort is not None
    if clear_all and (service or changes or clear):
        raise _fail("--clear-all takes no service and no other option")
    if (changes or clear) and not service:
        raise _fail("name the service: `paved chaos SERVICE --delay 2s` (see `paved chaos` for the services)")
    if clear and changes:
        raise _fail("--clear takes faults away: give it without --delay and --abort")
    seconds = _seconds(delay) if delay is not None else None
    proxy = _running_proxy(root, state_dir)
    if service is not None and service not in proxy.names:
        raise _fail(f"no service {service!r} in the running shop; it has: {', '.join(proxy.names)}")
    try:
        if clear_all:
            proxy.clear_all()
        elif service is not None:
            if clear:
                proxy.clear(service)
            if seconds is not None:
                proxy.delay(service, seconds, percent=percent)
            if abort is not None:
                proxy.abort(service, abort, percent=percent)
        table = Table(title="faults on calls between services")
        for column in ("service", "faults", "calls", "reached it"):
            table.add_column(column)
        faults = proxy.faults()
        for name in [service] if service else proxy.names:
            table.add_row(
                name,
                f"[yellow]{faults[name]}[/]" if faults[name].active else str(faults[name]),
                str(proxy.downstream_requests(name)),
                str(proxy.upstream_requests(name)),
            )
    except FaultProxyError as error:
        raise _fail(f"{error}; see `paved logs envoy`", 1) from error
    console.print(table)


BrokerOption = Annotated[
    str | None,
    typer.Option("--broker-url", help="The broker; that of the running `paved up` when omitted."),
]
LetterId = Annotated[str, typer.Argument(help="The dead letter's id, as `paved dlq list` shows it.")]
dlq = typer.Typer(
    help="Inspect and re-drive messages consumers parked as dead letters.",
    no_args_is_help=True,
)
app.add_typer(dlq, name="dlq")


def _broker_url(url: str | None, root: Path | None, state_dir: Path | None) -> str:
    if url:
        return url
    state = _state(root, state_dir)
    run = state.read_run()
    if not run or not run.get("broker_url") or not processes.is_alive(int(run["pid"])):
        raise _fail("paved is not running here: start it with `paved up`, or pass --broker-url")
    if run.get("nats"):
        # paved up's own NATS admits users only: these commands are the platform's.
        return with_credentials(
            str(run["broker_url"]), BrokerUser(PLATFORM_USER, state.secret(f"nats-{PLATFORM_USER}"))
        )
    return str(run["broker_url"])


def _broker(action: Callable[[Transport], Awaitable[T]], url: str) -> T:
    # Imported here: the web stack is slow to import, and most commands skip it.
    from paved.messaging import BrokerUnreachable, connected  # noqa: PLC0415

    async def run() -> T:
        async with connected(url) as transport:
            return await action(transport)

    try:
        return asyncio.run(run())
    except BrokerUnreachable as error:
        raise _fail(str(error), 1) from error
    except (OSError, TimeoutError) as error:
        raise _fail(f"the broker at {url}: {error or type(error).__name__}", 1) from error


@app.command()
def streams(
    broker_url: BrokerOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """List the broker's streams and their consumers (declared by the services' code)."""
    table = Table(title="streams")
    for column in (
        "stream",
        "subjects",
        "messages",
        "consumer",
        "pending",
        "unacked",
        "redelivered",
    ):
        table.add_column(column)
    for stream in _broker(lambda transport: transport.describe(), _broker_url(broker_url, root, state_dir)):
        subjects = cast(list[str], stream["subjects"])
        table.add_row(str(stream["name"]), ", ".join(subjects), str(stream["messages"]))
        for c in cast(list[dict[str, object]], stream["consumers"]):
            table.add_row(
                "",
                "",
                "",
                str(c["name"]),
                str(c["pending"]),
                str(c["ack_pending"]),
                str(c["redelivered"]),
            )
    console.print(table)


@dlq.command("list")
def dlq_list(
    broker_url: BrokerOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Every parked message: which consumer gave up on it, after how many attempts, and why."""
    letters = _broker(
        lambda transport: transport.dead_letters(),
        _broker_url(broker_url, root, state_dir),
    )
    if not letters:
        console.print("there are no dead letters")
        return
    table = Table(title="dead letters")
    for column in ("id", "parked at", "consumer", "subject", "type", "attempts"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for letter in letters:
        table.add_row(
            letter.id,
            f"{letter.parked_at:%Y-%m-%d %H:%M:%S}",
            letter.consumer,
            letter.subject,
            letter.message_type,
            str(letter.attempts),
            letter.reason[:160],
        )
    console.print(table)


@dlq.command("show")
def dlq_show(
    letter_id: LetterId,
    broker_url: BrokerOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """One parked message in full: the reason, the original headers and body."""
    letter = _dlq_action("dead_letter", letter_id, _broker_url(broker_url, root, state_dir))
    try:
        body: object = json.loads(letter.body)
    except ValueError:
        body = letter.body.decode(errors="replace")
    console.print_json(
        data={
            "id": letter.id,
            "consumer": letter.consumer,
            "subject": letter.subject,
            "attempts": letter.attempts,
            "parked_at": letter.parked_at.isoformat(),
            "reason": letter.reason,
            "headers": letter.original_headers,
            "body": body,
        }
    )


@dlq.command("replay")
def dlq_replay(
    letter_id: LetterId,
    broker_url: BrokerOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Deliver a parked message again (after the fix) to the consumer that parked it; its effect happens once."""
    letter = _dlq_action("replay", letter_id, _broker_url(broker_url, root, state_dir))
    console.print(f"replayed {letter_id} ({letter.message_type}) to {letter.consumer}")


@dlq.command("discard")
def dlq_discard(
    letter_id: LetterId,
    broker_url: BrokerOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Delete a parked message for good."""
    letter = _dlq_action("discard", letter_id, _broker_url(broker_url, root, state_dir))
    console.print(f"discarded {letter_id} ({letter.message_type}, parked by {letter.consumer})")


def _dlq_action(action: Literal["dead_letter", "replay", "discard"], letter_id: str, url: str) -> DeadLetter:
    async def one(transport: Transport) -> DeadLetter:
        try:
            return await getattr(transport, action)(letter_id)  # type: ignore[no-any-return]
        except KeyError:
            raise _fail(f"no dead letter {letter_id}: see `paved dlq list`") from None

    return _broker(one, url)


sagas = typer.Typer(
    help="Where each business process is: orchestrated sagas and choreographed ones alike.",
    no_args_is_help=True,
)
app.add_typer(sagas, name="sagas")
SagaId = Annotated[str, typer.Argument(help="The saga's id (an order's id, for the fulfilment).")]
DatabaseOption = Annotated[
    list[str] | None,
    typer.Option(
        "--database-url",
        help="SERVICE=URL: read this service's sagas there (default: the running shop's).",
    ),
]


def _database_urls(items: list[str] | None) -> dict[str, str]:
    """``--database-url SERVICE=URL`` options, by service."""
    urls: dict[str, str] = {}
    for item in items or []:
        name, sep, url = item.partition("=")
        if not sep or not url:
            raise _fail(f"--database-url {item!r}: write it as SERVICE=URL")
        urls[name] = url
    return urls


def _saga_databases(urls: list[str] | None, root: Path | None, state_dir: Path | None) -> dict[str, str]:
    """Each service's database URL: as given, else as the running `paved up` recorded it."""
    given = _database_urls(urls)
    if given:
        return given
    run = _state(root, state_dir).read_run()
    if not run or not processes.is_alive(int(run["pid"])):
        raise _fail("paved is not running here: start it with `paved up`, or pass --database-url SERVICE=URL")
    found = {name: str(s["database"]) for name, s in run["services"].items() if s["database"]}
    hidden = [name for name, url in found.items() if "***" in url]
    if hidden:
        raise _fail(f"the running shop hides the passwords of {', '.join(hidden)}: pass --database-url SERVICE=URL")
    return found


def _each_saga_store(databases: dict[str, str], action: Callable[..., Awaitable[T]]) -> list[T]:
    from paved.sagas import SagaStore  # noqa: PLC0415 - SQLAlchemy only for the sagas commands

    async def run() -> list[T]:
        results = []
        for service, url in sorted(databases.items()):
            async with SagaStore(service, url) as store:
                if await store.has_sagas():
                    results.append(await action(store))
        return results

    try:
        return asyncio.run(run())
    except (OSError, TimeoutError) as error:
        raise _fail(f"a service's database: {error or type(error).__name__}", 1) from error


def _print_sagas(found: list[Any], title: str) -> None:
    summaries = sorted((s for group in found for s in group), key=lambda s: s.started_at, reverse=True)
    if not summaries:
        console.print(f"no {title}")
        return
    table = Table(title=title)
    # The id in full: it is what `paved sagas show` takes. The rest may wrap.
    table.add_column("id", no_wrap=True, min_width=max(len(s.id) for s in summaries))
    for column in (
        "service",
        "saga",
        "style",
        "state",
        "step",
        "started",
        "updated",
        "attention",
    ):
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(
            s.id,
            s.service,
            s.saga,
            s.style,
            s.state,
            s.step,
            f"{s.started_at:%H:%M:%S.%f}"[:-3],
            f"{s.updated_at:%H:%M:%S.%f}"[:-3],
            f"[red]{s.reason}[/]" if s.needs_attention else (s.reason or ""),
        )
    console.print(table)


@sagas.command("list")
def sagas_list(
    state: Annotated[
        str | None,
        typer.Option(help="Only sagas in this state (e.g. running, compensated)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many per service.")] = 50,
    database_url: DatabaseOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """The newest sagas of every service that runs or watches some, with their state and step."""
    databases = _saga_databases(database_url, root, state_dir)
    _print_sagas(
        _each_saga_store(databases, lambda store: store.list(state=state, limit=limit)),
        "sagas",
    )


@sagas.command("stuck")
def sagas_stuck(
    older_than: Annotated[float, typer.Option(min=0, help="Seconds without progress that make one stuck.")] = 30.0,
    database_url: DatabaseOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Unfinished sagas that need a person, or have not moved for --older-than seconds."""
    databases = _saga_databases(database_url, root, state_dir)
    found = _each_saga_store(databases, lambda store: store.list(stuck_after=timedelta(seconds=older_than)))
    _print_sagas(found, "stuck sagas")


@sagas.command("show")
def sagas_show(
    saga_id: SagaId,
    database_url: DatabaseOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """One saga wherever it is kept (orchestrator or view): its state and each step with its time and outcome."""
    databases = _saga_databases(database_url, root, state_dir)
    found = [f for f in _each_saga_store(databases, lambda store: store.show(saga_id)) if f is not None]
    if not found:
        raise _fail(f"no saga {saga_id}: see `paved sagas list`", 1)
    for summary, timeline in found:
        finished = "finished" if summary.finished else "not finished"
        console.print(
            f"[bold]{summary.id}[/] {summary.saga} ({summary.style}, kept by {summary.service}): "
            f"[bold]{summary.state}[/] at {summary.step}, {finished}",
            highlight=False,
        )
        if summary.needs_attention:
            console.print(f"[red]needs attention:[/] {summary.reason} (re-drive with `paved sagas retry {summary.id}`)")
        table = Table()
        for column in ("at", "step", "kind", "attempt", "outcome", "detail"):
            table.add_column(column)
        for e in timeline:
            table.add_row(
                f"{e.at:%H:%M:%S.%f}"[:-3],
                e.step,
                e.kind,
                str(e.attempt or ""),
                e.outcome,
                e.detail or "",
            )
        console.print(table)


@sagas.command("retry")
def sagas_retry(
    saga_id: SagaId,
    database_url: DatabaseOption = None,
    root: RootOption = None,
    state_dir: StateOption = None,
) -> None:
    """Re-drive an orchestrated saga that needs attention, from the step where it stopped."""
    databases = _saga_databases(database_url, root, state_dir)
    retried = _each_saga_store(databases, lambda store: store.retry(saga_id))
    if not any(retried):
        raise _fail(
            f"no saga {saga_id} needs attention: `paved sagas show {saga_id}` tells where it is "
            "(a choreographed one is re-driven by replaying its dead letters: `paved dlq list`)",
            1,
        )
    console.print(f"{saga_id} is due again: its orchestrator sends the step in hand within a second")


def main() -> None:
    app()
