"""The composition root for services: everything a running site needs, built from
:class:`cti.config.Settings` and nothing else, started and stopped in one place.

There are no module-level connections anywhere in the product: the web app, the CLI
and the tests receive a :class:`Services` object. Components are added here as they
exist; each has a ``start()`` / ``stop()`` and is stopped in reverse order so writes
finish before the database closes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from cti.bus import EventBus
from cti.config import Settings
from cti.customers import region_from
from cti.db import Database, DatabaseUnavailable
from cti.embedded_pg import EmbeddedPostgres
from cti.floor import FloorFigures
from cti.migrations import migrate
from cti.store import StoreWriter
from cti.webhooks import dispatcher_for

log = logging.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    embedded_pg: EmbeddedPostgres | None = None
    components: list[tuple[str, Any]] = field(default_factory=list)
    started: bool = False

    def add(self, name: str, component: Component) -> None:
        """Register a component to start after the ones before it and stop before them."""
        self.components.append((name, component))
        setattr(self, name, component)

    def start(self) -> None:
        for name, component in self.components:
            log.info("starting", extra={"component": name})
            component.start()
        self.started = True

    def stop(self) -> None:
        """Stop everything, newest first; a failing stop never blocks the others."""
        for name, component in reversed(self.components):
            try:
                component.stop()
            except Exception:
                log.exception("component failed to stop", extra={"component": name})
        self.started = False
        self.db.close()
        if self.embedded_pg is not None:
            self.embedded_pg.close()


def open_database(settings: Settings) -> tuple[Database, EmbeddedPostgres | None]:
    """Connect to ``CTI_DATABASE_URL`` or start the embedded PostgreSQL in the data dir."""
    embedded = None
    url = settings.database_url
    if url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        url = embedded.start()
    db = Database(url, size=settings.db_pool_size)
    try:
        db.fetchone("SELECT 1")
    except DatabaseUnavailable:
        if embedded is not None:
            embedded.close()
        raise
    return db, embedded


def build_services(settings: Settings, *, run_migrations: bool = True) -> Services:
    """Open the store (migrated) and assemble the site's components."""
    region = region_from(settings.extra)
    db, embedded = open_database(settings)
    try:
        if run_migrations:
            applied = migrate(db)
            if applied:
                log.info("database migrated", extra={"applied": ",".join(applied)})
    except BaseException:
        db.close()
        if embedded is not None:
            embedded.close()
        raise
    services = Services(settings=settings, db=db, bus=EventBus(), embedded_pg=embedded)
    # Added before the core, so it stops after it and flushes the core's last events.
    services.add("store", StoreWriter(db, services.bus, settings.data_dir / "store", region=region))
    services.add("webhooks", dispatcher_for(settings, db, services.bus))
    # Before the core too: its seed from the store and its first event cannot overlap.
    services.add("floor", FloorFigures(db, services.bus, settings.site_timezone))
    if settings.esl_nodes:
        from cti.core import LiveCore
        from cti.supervision import SupervisionService

        services.add("core", LiveCore(settings, db, services.bus))
        from routing.engine import RoutingEngine

        services.add("routing", RoutingEngine(services))
        services.add("supervision", SupervisionService(services.core, router=services.routing))
    # Outbound: the dialer (campaign state changes work without a switch; dialling needs
    # one), then the site's one scheduler, last so its ticks stop before the dialer does.
    from outbound.dialer import Dialer
    from outbound.scheduler import SiteScheduler

    services.add("dialer", Dialer(services))
    services.add("scheduler", SiteScheduler(db, services.dialer, site_zone=settings.site_timezone, database_url=db.url,
                                            extra=dict(settings.extra), data_dir=str(settings.data_dir)))
    services.dialer.add_state_listener(services.scheduler.sync_campaign)
    return services
