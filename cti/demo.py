"""``cti demo``: the whole product on one machine with nothing to configure.

Embedded PostgreSQL in ``CTI_DATA_DIR``, the demo site from ``examples/site.yaml``, and
the web app on ``CTI_HTTP``; the same services as ``cti serve`` (only the switch differs).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from cti.config import Settings
from cti.provision import load_site_file, provision
from cti.runtime import run_until_signalled
from cti.services import build_services

log = logging.getLogger(__name__)

DEFAULT_SITE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"


def demo_logins(site: dict) -> list[tuple[str, str, str]]:
    """(username, password, roles) for the people of the demo site, to print at start."""
    people = [(u["username"], u.get("password", ""), ",".join(u.get("roles", []))) for u in site.get("users") or []]
    agents = site.get("agents") or []
    people += [(a["username"], a.get("password", ""), "agent") for a in agents[:3]]
    return people


def run_demo(settings: Settings, site_file: Path | None = None) -> None:
    from webapp import create_app

    site_path = site_file or DEFAULT_SITE
    site = load_site_file(site_path)
    services = build_services(settings)
    try:
        provision(services.db, site)
    except BaseException:
        services.stop()
        raise
    app, _socketio = create_app(services)

    def announce(url: str) -> None:
        click.echo(f"\nDemo running at {url}  (Ctrl-C stops everything)\n")
        click.echo("Sign in as:")
        for username, password, roles in demo_logins(site):
            click.echo(f"  {username:<12} password {password:<12} {roles}")
        agents = site.get("agents") or []
        if len(agents) > 3:
            click.echo(f"  ... and {len(agents) - 3} more agents (see {site_path})")

    run_until_signalled(services, app, on_ready=announce)
