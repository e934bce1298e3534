"""The ``cti`` command line: the one entry point of the product.

gevent's monkey-patching and the cooperative psycopg2 wait callback are installed here,
first, before anything opens a socket. Every sub-command builds its settings from the
environment (see :mod:`cti.config`); a configuration error stops it with one line on
stderr and exit status 2.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import functools  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import click  # noqa: E402

from cti.config import ConfigError, Settings, load_settings  # noqa: E402
from cti.db import DatabaseUnavailable, make_psycopg2_cooperative  # noqa: E402
from cti.logs import configure_logging  # noqa: E402
from cti.migrations import MigrationError  # noqa: E402

make_psycopg2_cooperative()
log = logging.getLogger("cti")
# pgserver's lock folder falls back to /tmp when XDG_RUNTIME_DIR is unset (services,
# containers): expected there, and not something a user can act on.
warnings.filterwarnings("ignore", module="platformdirs")

F = TypeVar("F", bound=Callable[..., Any])

#: Errors a user can fix; shown as one line, never as a traceback.
_USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, DatabaseUnavailable, MigrationError)


def _user_errors() -> tuple[type[Exception], ...]:
    """Every error a user can fix (imported lazily: most commands need few modules)."""
    from cti.provision import ProvisionError
    from cti.simulate import SimulationError
    from cti.store import StoreBusy
    from cti.users import UserError

    return (*_USER_ERRORS, ProvisionError, UserError, SimulationError, StoreBusy)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"cti: {message}", err=True)
    sys.exit(code)


def with_settings(demo: bool = False) -> Callable[[F], F]:
    """Load settings and logging before the command; turn user errors into one line."""

    def decorator(command: F) -> F:
        @functools.wraps(command)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                settings = load_settings(demo=demo)
                configure_logging(settings.log_level)
                logging.getLogger("pgserver").setLevel(logging.WARNING)
                return command(settings, *args, **kwargs)
            except _user_errors() as exc:
                _fail(str(exc))

        return wrapped  # type: ignore[return-value]

    return decorator


@click.group()
@click.version_option(package_name="cti-center")
def main() -> None:
    """Call-center CTI middleware for FreeSWITCH."""


@main.command()
@with_settings()
def migrate(settings: Settings) -> None:
    """Apply pending database migrations (safe to run any time)."""
    from cti.migrations import migrate as apply
    from cti.services import open_database

    db, embedded = open_database(settings)
    try:
        applied = apply(db)
    finally:
        db.close()
        if embedded is not None:
            embedded.close()
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "database is up to date")


@main.command()
@click.argument("site_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_settings()
def provision(settings: Settings, site_file: Path) -> None:
    """Load users, agents, queues, flows ... from a site YAML file (idempotent)."""
    from cti.provision import load_site_file
    from cti.provision import provision as apply
    from cti.services import build_services

    site = load_site_file(site_file)
    services = build_services(settings)
    try:
        report = apply(services.db, site)
    finally:
        services.stop()
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()))
    click.echo(f"provisioned {site_file}: {summary or 'nothing'}")
    for flow in report.new_flow_versions:
        click.echo(f"  new flow version: {flow}")


@main.group()
def user() -> None:
    """Manage users who sign in to the web app."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["agent", "supervisor", "campaign_manager", "admin"]),
              help="Repeat for several roles.")
@click.option("--name", "display_name", default="", help="Name shown in the pages.")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en")
@click.password_option(help="Prompted for when not given.")
@with_settings()
def user_add(settings: Settings, username: str, roles: tuple[str, ...], display_name: str,
             language: str, password: str) -> None:
    """Create a user, or update an existing one's roles and password."""
    from cti.services import build_services
    from cti.users import check_password_strength, upsert_user

    check_password_strength(password)
    services = build_services(settings)
    try:
        with services.db.transaction() as cur:
            user_id = upsert_user(cur, username, roles=roles, display_name=display_name,
                                  password=password, language=language)
    finally:
        services.stop()
    click.echo(f"user {username} (id {user_id}) saved with roles {', '.join(roles)}")


@main.command()
@click.option("--site", "site_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Site description to load (default: examples/site.yaml).")
@with_settings(demo=True)
def demo(settings: Settings, site_file: Path | None) -> None:
    """Run the full demo: embedded PostgreSQL, simulated switch, callers and agents, web app."""
    from cti.demo import run_demo

    run_demo(settings, site_file)


@main.command()
@with_settings()
def serve(settings: Settings) -> None:
    """Production start: ESL links, routing, scheduler and web server in one process."""
    from cti.serve import run_serve

    run_serve(settings)


@main.command("esl-dump")
@click.option("--file", "capture", type=click.File("rb"), default="-",
              help="Raw ESL bytes (a capture of port 8021); standard input by default.")
def esl_dump(capture) -> None:
    """Print every frame of raw ESL bytes as one JSON object per line."""
    from esl.tools import dump

    sys.exit(dump(capture, sys.stdout))


@main.command("esl-tail")
@click.option("--node", default=None, help="Name of the switch in CTI_ESL (default: the first).")
@with_settings()
def esl_tail(settings: Settings, node: str | None) -> None:
    """Connect to a live switch and print its events as JSON lines until Ctrl-C."""
    from esl.tools import tail

    if not settings.esl_nodes:
        _fail("CTI_ESL is not set: esl://:PASSWORD@HOST:PORT")
    chosen = [n for n in settings.esl_nodes if node in (None, n.name)]
    if not chosen:
        _fail(f"no switch named {node!r} in CTI_ESL ({', '.join(n.name for n in settings.esl_nodes)})")
    sys.exit(tail(chosen[0], sys.stdout))


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8021, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--password", required=True, help="The event-socket password clients must send.")
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Simulated seconds per real second.")
@click.option("--caller-rate", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Poisson callers per second (0: none).")
@click.option("--did", "dids", multiple=True, default=("4008001000",), show_default=True,
              help="DIDs the callers dial (repeat for several).")
@click.option("--phone", "phones", multiple=True, help="Extra agent phone extensions to register.")
@click.option("--seed", type=int, default=None)
def fakeswitch(port: int, host: str, password: str, speed: float, caller_rate: float,
               dids: tuple[str, ...], phones: tuple[str, ...], seed: int | None) -> None:
    """Serve a simulated FreeSWITCH (the ESL inbound protocol over TCP)."""
    from esl.simulator.main import run_fakeswitch

    configure_logging("INFO")
    try:
        run_fakeswitch(port, password, host=host, speed=speed, caller_rate=caller_rate, dids=dids,
                       phones=phones, seed=seed)
    except (ValueError, OSError) as exc:
        _fail(str(exc))


@main.command()
@click.argument("name", required=False)
@click.option("--from", "start", help="First day or instant, e.g. 2026-11-01.")
@click.option("--to", "end", help="End (exclusive), e.g. 2026-12-01.")
@click.option("--interval", default="day", show_default=True,
              help="30min, hour, day, week, month, quarter, year or total.")
@click.option("--by", default=None, help="Grouping, e.g. queue, agent, team, campaign, did (comma separated).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (standard output when omitted; required for xlsx).")
@click.option("--tz", default=None, help="Time zone of the intervals (default: CTI_SITE_TIMEZONE).")
@click.option("--list", "list_reports", is_flag=True, help="List the reports and exit.")
@with_settings()
def report(settings: Settings, name: str | None, start: str | None, end: str | None, interval: str,
           by: str | None, fmt: str, out_path: Path | None, tz: str | None, list_reports: bool) -> None:
    """Run report NAME (inbound_summary, agent_performance, call_detail, ...; see --list)."""
    from cti.services import open_database
    from reports.catalog import REPORTS
    from reports.cli import run
    from reports.errors import ReportError

    if list_reports or not name:
        for spec in REPORTS.values():
            click.echo(f"{spec.name:<20} {spec.title}")
        return
    if not start or not end:
        _fail("--from and --to are required, e.g. --from 2026-11-01 --to 2026-12-01")
    db, embedded = open_database(settings)
    try:
        run(name, start, end, interval, by.split(",") if by else None, fmt, out_path, db,
            tz=tz or settings.site_timezone)
    except ReportError as exc:
        _fail(str(exc))
    finally:
        db.close()
        if embedded is not None:
            embedded.close()


@main.command("report-rebuild")
@click.option("--from", "start", required=True)
@click.option("--to", "end", required=True)
@with_settings()
def report_rebuild(settings: Settings, start: str, end: str) -> None:
    """Recompute the pre-aggregated interval table for a range (after an import of history)."""
    from cti.services import open_database
    from reports.cli import rebuild_rollup

    db, embedded = open_database(settings)
    try:
        rows = rebuild_rollup(db, start, end, tz=settings.site_timezone)
    finally:
        db.close()
        if embedded is not None:
            embedded.close()
    click.echo(f"rebuilt {rows} interval rows")


@main.command()
@with_settings()
def doctor(settings: Settings) -> None:
    """Check the database and every switch; print a checklist with remedies."""
    from cti.doctor import doctor as run_doctor

    sys.exit(run_doctor(settings, sys.stdout))


# -- outbound: contact import (outbound/cli.py) ----------------------------------------


@main.group()
def contacts() -> None:
    """Outbound contact lists."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="Contact list to import into (created if new).")
@click.option("--map", "mapping", required=True,
              help="Columns: phone=Phone,name=Name,timezone=TZ; other keys become custom fields.")
@click.option("--region", default="US", show_default=True,
              help="Country of numbers written without +country code (US, GB, CN ...).")
@click.option("--campaign", default=None, help="Attach the list to this campaign (by name).")
@with_settings()
def contacts_import(settings: Settings, file: Path, list_name: str, mapping: str, region: str,
                    campaign: str | None) -> None:
    """Import a CSV or XLSX contact file, printing progress and the bad-row report."""
    from cti.services import open_database
    from outbound.cli import import_command
    from outbound.errors import OutboundError

    db, embedded = open_database(settings)
    try:
        import_command(db, file, list_name=list_name, mapping=mapping, region=region, campaign=campaign,
                       echo=click.echo)
    except OutboundError as exc:
        _fail(exc.message)
    except RuntimeError as exc:   # the import worker failed; it logged why
        _fail(str(exc))
    finally:
        db.close()
        if embedded is not None:
            embedded.close()


# -- end of outbound ----------------------------------------------------------------------


@main.command()
@click.option("--agents", type=int, default=20, show_default=True, help="Agents logged in.")
@click.option("--rate", type=float, default=0.2, show_default=True, help="Callers per simulated second.")
@click.option("--duration", type=float, default=120.0, show_default=True, help="Simulated seconds of arrivals.")
@click.option("--speed", type=float, default=10.0, show_default=True, help="Simulated seconds per real second.")
@click.option("--talk", type=float, default=60.0, show_default=True, help="Mean talk time (s).")
@click.option("--patience", type=float, default=60.0, show_default=True, help="Mean patience of a waiting caller (s).")
@click.option("--wrapup", type=int, default=0, show_default=True, help="After-call work (real seconds).")
@click.option("--kill-esl-every", type=float, default=None, help="Drop the ESL connection every N simulated s.")
@click.option("--restart-db-at", type=float, default=None, help="Stop and restart PostgreSQL at this simulated second.")
@click.option("--db-down", type=float, default=2.0, show_default=True, help="Real seconds the database stays down.")
@click.option("--router", type=click.Choice(["engine", "direct"]), default="engine", show_default=True,
              help="engine: the routing engine; direct: first-free-agent (the core alone).")
@click.option("--seed", type=int, default=1, show_default=True)
@with_settings()
def simulate(settings: Settings, **options: Any) -> None:
    """Run the middleware against the simulator and print a JSON summary (exit 1 if
    events were lost, agents left inconsistent or calls not stored)."""
    import json

    from cti.simulate import exit_status, run_simulation

    summary = run_simulation({**options, "database_url": settings.database_url})
    click.echo(json.dumps(summary, indent=2, sort_keys=True))
    sys.exit(exit_status(summary))


if __name__ == "__main__":
    main()
