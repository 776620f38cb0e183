"""The ``kilat`` command: run, serve, migrate and administer the platform."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kilat.platform.settings import Profile, Settings

app = typer.Typer(help="Kilat: on-demand delivery and mobility platform.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(keys_app, name="keys")
rail_app = typer.Typer(help="The rail vertical: demo timetable, offline ticket check.",
                       no_args_is_help=True)
app.add_typer(rail_app, name="rail")

console = Console()

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where data, keys and blobs live (KILAT_DATA_DIR).",
                 show_default=False),
]
Distributed = Annotated[
    bool, typer.Option("--distributed", help="Use PostgreSQL, Redis and NATS (KILAT_PROFILE).")
]


def _settings(
    data_dir: Path | None = None, distributed: bool | None = None, *, serving: bool = False
) -> Settings:
    """Command-line options become the KILAT_ settings, so child processes inherit them."""
    if data_dir is not None:
        os.environ["KILAT_DATA_DIR"] = str(data_dir)
    if distributed:
        os.environ["KILAT_PROFILE"] = Profile.DISTRIBUTED.value
    try:
        settings = Settings()
        if serving:
            settings.check_serving_secrets()
        return settings
    except ValueError as exc:
        console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.callback()
def main(data_dir: DataDir = None) -> None:
    if data_dir is not None:
        os.environ["KILAT_DATA_DIR"] = str(data_dir)


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="Gateway port (default 8080).",
                                             show_default=False)] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1).",
                                             show_default=False)] = None,
    data_dir: DataDir = None,
    distributed: Distributed = False,
    demo: Annotated[bool, typer.Option("--demo", help="Load demo data.")] = False,
) -> None:
    """Run the whole platform: one process (embedded) or one process per service (distributed)."""
    settings = _settings(data_dir, distributed, serving=True)
    host, port = host or settings.host, port or settings.service_port("gateway")
    _refuse_ports_in_use(settings, host, port)
    if settings.profile is Profile.DISTRIBUTED:
        from kilat.supervisor import run_distributed

        code = asyncio.run(run_distributed(settings, host=host, gateway_port=port, demo=demo))
        raise typer.Exit(code)
    from kilat.app import build_embedded_app

    application = build_embedded_app(settings, demo=demo)
    _serve(application, host, port, banner=f"Kilat is up (embedded, data in {settings.data_dir})")


def _refuse_ports_in_use(settings: Settings, host: str, gateway_port: int) -> None:
    """Stop at once, before any migration, when a port the platform needs is taken."""
    from kilat.supervisor import GATEWAY, platform_ports, port_in_use

    ports = ({GATEWAY: gateway_port} if settings.profile is Profile.EMBEDDED
             else platform_ports(settings, gateway_port))
    for name, port in ports.items():
        error = port_in_use(host, port)
        if error is not None:
            console.print(f"[red]port {port} is in use[/red] ({name} on {host}: "
                          f"{error.strerror or error}); set --port or KILAT_SERVICE_PORTS",
                          soft_wrap=True)
            raise typer.Exit(1)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="A service name, or 'gateway'.")],
    port: Annotated[int | None, typer.Option(help="Port (default: the service's own).")] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1).",
                                             show_default=False)] = None,
    data_dir: DataDir = None,
) -> None:
    """Run one service alone (distributed profile), for an operator's process manager."""
    settings = _settings(data_dir, distributed=True, serving=True)
    from kilat.app import build_distributed_gateway, build_service_app
    from kilat.services import SERVICES

    if service == "gateway":
        application = build_distributed_gateway(settings)
    elif service in SERVICES:
        application = build_service_app(service, settings)
    else:
        console.print(f"[red]unknown service {service!r}[/red]; known: gateway, {', '.join(SERVICES)}")
        raise typer.Exit(2)
    _serve(application, host or settings.host, port or settings.service_port(service),
           banner=f"Kilat {service}")


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="Services (default: all).")] = None,
    data_dir: DataDir = None,
    distributed: Distributed = False,
) -> None:
    """Create each service's database if missing and run its migrations."""
    settings = _settings(data_dir, distributed)
    from kilat.services import SERVICES

    unknown = [name for name in services or [] if name not in SERVICES]
    if unknown:
        console.print(f"[red]unknown service(s): {', '.join(unknown)}[/red]")
        raise typer.Exit(2)
    from kilat.app import migrate_services

    for name, url in asyncio.run(migrate_services(settings, services or SERVICES)):
        console.print(f"[green]migrated[/green] {name} ({_redact(url)})")


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option(help="Admin e-mail address.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.", prompt=True,
                                          hide_input=True)],
    role: Annotated[str, typer.Option(help="admin, or gate (rail gate staff).")] = "admin",
    full_name: Annotated[str, typer.Option(help="Name of gate staff.")] = "Gate staff",
    data_dir: DataDir = None,
) -> None:
    """Create an admin (or promote an existing user; the only way to make one), or gate staff."""
    if role not in ("admin", "gate"):
        console.print("[red]--role must be admin or gate[/red]")
        raise typer.Exit(2)
    settings = _settings(data_dir)
    from kilat.app import create_admin

    try:
        user = asyncio.run(create_admin(settings, email, password) if role == "admin"
                           else _create_gate_staff(settings, email, password, full_name))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"[green]{role} ready[/green] {user.email} ({user.id})")


async def _create_gate_staff(settings: Settings, email: str, password: str, full_name: str):
    """A new gate staff account in the identity database (migrating it first)."""
    from kilat.app import migrate_services
    from kilat.platform.db import Database
    from kilat.platform.errors import KilatError
    from kilat.services.identity.domain import Role
    from kilat.services.identity.passwords import PasswordHasher
    from kilat.services.identity.service import create_staff

    await migrate_services(settings, ["identity"])
    database = Database(settings.database_url("identity"), service="identity")
    try:
        async with database.session() as session:
            return await create_staff(session, PasswordHasher(settings.password_hash_rounds),
                                      email, password, full_name, Role.GATE)
    except KilatError as exc:
        raise ValueError(f"{exc.error}{': ' + exc.detail if exc.detail else ''}") from exc
    finally:
        await database.dispose()


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path, typer.Option(
        help="Folder for the token pair (jwt-ed25519.pem, .pub.pem) and the rail ticket pair "
             "(rail-qr-ed25519.pem, .pub.pem).")],
) -> None:
    """Write new Ed25519 key pairs for production: one signs tokens, one signs rail tickets."""
    from kilat.platform.auth import generate_keypair

    pairs = {"KILAT_JWT": ("jwt-ed25519.pem", "jwt-ed25519.pub.pem"),
             "KILAT_RAIL_QR": ("rail-qr-ed25519.pem", "rail-qr-ed25519.pub.pem")}
    taken = [out / name for names in pairs.values() for name in names if (out / name).exists()]
    if taken:
        console.print(f"[red]{taken[0]} exists; refusing to overwrite[/red]")
        raise typer.Exit(2)
    for setting, (private, public) in pairs.items():
        generate_keypair(out / private, out / public)
        console.print(f"{setting}_PRIVATE_KEY_PATH={out / private}\n"
                      f"{setting}_PUBLIC_KEY_PATH={out / public}")


@rail_app.command("seed")
def rail_seed(
    days: Annotated[int, typer.Option(min=1, max=60, help="Days of journeys from today.")] = 10,
    data_dir: DataDir = None,
    distributed: Distributed = False,
) -> None:
    """Load the demo rail timetable (idempotent; safe while the platform runs)."""
    settings = _settings(data_dir, distributed)
    from kilat.services.rail.commands import seed

    added = asyncio.run(seed(settings, days))
    console.print(f"[green]rail timetable ready[/green]: {added} journeys added for {days} days")


@rail_app.command("verify")
def rail_verify(
    qr: Annotated[str, typer.Argument(help="The ticket's QR text (KR1.<payload>.<signature>).")],
    public_key: Annotated[Path, typer.Option("--public-key", exists=True, dir_okay=False,
                                             help="PEM from GET /api/v1/rail/keys.")],
) -> None:
    """Check a ticket offline: the signature against the public key; prints the ticket."""
    from kilat.services.rail.commands import verify_offline
    from kilat.services.rail.qr import InvalidTicketCode

    try:
        fields = verify_offline(qr, public_key)
    except (InvalidTicketCode, ValueError) as exc:
        console.print(f"[red]invalid ticket[/red]: {exc}")
        raise typer.Exit(1) from exc
    print(json.dumps(fields, ensure_ascii=False, sort_keys=True))


@app.command()
def simulate(
    verticals: Annotated[str, typer.Option(
        help="Comma-separated: pets, rides, parcels, rail. A vertical the platform does not "
             "serve sits out (said in the summary).")] = "pets,rides,parcels,rail",
    owners: Annotated[int | None, typer.Option(min=1, show_default=False,
                                               help="Pet owners (default 20).")] = None,
    runners: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                help="Pet runners (default 10).")] = None,
    passengers: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                   help="Ride passengers (default 6).")] = None,
    drivers: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                help="Ride drivers (default 4).")] = None,
    customers: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                  help="Parcel customers (default 6).")] = None,
    couriers: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                 help="Parcel couriers (default 4).")] = None,
    travellers: Annotated[int | None, typer.Option(min=1, show_default=False,
                                                   help="Rail travellers (default 6).")] = None,
    per_vertical: Annotated[int | None, typer.Option(
        "--per-vertical", min=1, show_default=False,
        help="How many of every role not given on its own.")] = None,
    minutes: Annotated[float, typer.Option(min=0.01, help="How long to run.")] = 2.0,
    target: Annotated[str, typer.Option(help="Gateway URL of a running platform.")] = "http://127.0.0.1:8080",
    seed: Annotated[int, typer.Option(help="Same seed, same sequence of actions.")] = 1,
    tick: Annotated[float, typer.Option(min=0.05, help="Seconds per simulated step.")] = 1.0,
    admin_email: Annotated[str | None, typer.Option(
        envvar="KILAT_SIM_ADMIN_EMAIL", show_default=False,
        help="An admin (kilat admin create) whose token reads the development sink, so rail "
             "travellers can enter their booking codes; without one they release their holds.")]
    = None,
    admin_password: Annotated[str | None, typer.Option(
        envvar="KILAT_SIM_ADMIN_PASSWORD", show_default=False,
        help="That admin's password (better in the environment variable).")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the summary here.")] = None,
    progress: Annotated[bool, typer.Option(help="Show the live panel.")] = True,
) -> None:
    """Drive a running platform with a simulated city (pet owners and runners, ride passengers
    and drivers, parcel customers and couriers, rail travellers) through its public API."""
    from kilat.simulate import SimulationConfig, Target, run_simulation

    given = {"owners": owners, "runners": runners, "passengers": passengers, "drivers": drivers,
             "customers": customers, "couriers": couriers, "travellers": travellers}
    people = {role: count if count is not None else per_vertical for role, count in given.items()}
    try:
        config = SimulationConfig(
            minutes=minutes, seed=seed, tick_seconds=tick,
            verticals=tuple(v.strip() for v in verticals.split(",") if v.strip()),
            admin_email=admin_email, admin_password=admin_password,
            **{role: count for role, count in people.items() if count is not None})
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    summary = asyncio.run(run_simulation(config, Target(url=target.rstrip("/")), console=console,
                                         progress=progress, json_path=json_file))
    if summary["errors"]:
        raise typer.Exit(1)


@app.command()
def bench(
    scenarios: Annotated[list[str] | None, typer.Argument(
        help="bare, read, journey, ingest, fanout, nearby, startup, rides, parcels, rail "
             "(default: all; bare runs first with read or ingest).")] = None,
    profile: Annotated[str, typer.Option(help="embedded, distributed or both.")] = "both",
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
    quick: Annotated[bool, typer.Option(help="Tiny sizes, a second or two each (a smoke test).")] = False,
    markdown: Annotated[Path | None, typer.Option(
        help="Print the results of a saved run (a --json file) as a Markdown table, and exit.",
        exists=True, dir_okay=False)] = None,
) -> None:
    """Measure the platform against its targets; prints a table and the JSON results."""
    if markdown is not None:
        from kilat.bench.results import markdown_table

        print(markdown_table(json.loads(markdown.read_text())), end="")
        return
    from kilat.bench import BenchError, bench_main

    try:
        report = bench_main(scenarios or [], profile, quick=quick, console=console)
    except BenchError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if json_file is None:
        console.print_json(report.to_json())
    else:
        json_file.write_text(report.to_json())
        console.print(f"results written to {json_file}")


KEEP_ALIVE_SECONDS = 75


def server_config(application, host: str, port: int):
    import uvicorn

    # idle keep-alive connections are kept longer than clients keep them (httpx: 5 s, the
    # gateway's proxy: 30 s), so a client never sends a request on a connection the server is
    # closing at that moment (which surfaces as "server disconnected" on a non-retryable POST).
    # No proxy headers: uvicorn would believe any X-Forwarded-For from loopback; the gateway
    # believes only KILAT_TRUSTED_PROXIES.
    return uvicorn.Config(application, host=host, port=port, log_level="warning",
                          access_log=False, lifespan="on", ws_max_size=1 << 20,
                          timeout_keep_alive=KEEP_ALIVE_SECONDS, proxy_headers=False)


def _serve(application, host: str, port: int, *, banner: str) -> None:
    import uvicorn

    server = uvicorn.Server(server_config(application, host, port))

    async def _run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            console.print(f"[bold green]{banner}[/bold green] at [link]http://{host}:{port}[/link]"
                          f"  (docs: http://{host}:{port}/docs; Ctrl-C stops)")
        await task

    # uvloop, as `uvicorn.run` would pick: asyncio's own loop costs several times more per socket
    # operation, and every request of the distributed profile crosses two sockets
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_run())


def _loop_factory():
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it, except on Windows
        return None
    return uvloop.new_event_loop


def _redact(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
