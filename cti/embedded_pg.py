"""The embedded PostgreSQL: a real server from the ``pgserver`` wheel, in the data dir.

Used when ``CTI_DATABASE_URL`` is unset (the demo, a laptop, the tests). It listens
only on a Unix socket inside its data folder, so two sites on one machine never clash
on a port. :meth:`EmbeddedPostgres.stop` is called on exit and on SIGINT/SIGTERM, so
Ctrl-C leaves no postgres behind; tests also use stop/start to prove that a database
restart loses nothing.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Owns one pgserver cluster folder and the server process running on it."""

    def __init__(self, data_dir: Path, database: str = "cti") -> None:
        _check_identifier(database)
        self.pgdata = Path(data_dir).resolve() / "pgdata"
        self.database = database
        self._server: Any = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Start (or attach to) the cluster, create the database, return its URL."""
        import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self._server is None:
            log.info("starting embedded postgresql", extra={"pgdata": str(self.pgdata)})
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        else:
            self._server.ensure_postgres_running()
        self._ensure_database()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded postgresql is not started")
        return str(self._server.get_uri(self.database))

    def _ensure_database(self) -> None:
        # psql has no bound parameters; the name was checked by _check_identifier.
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';")  # noqa: S608
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{self.database}";')

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a fresh database in this cluster, empty or as a copy of ``template``
        (tests use one per module, copied from a database provisioned once)."""
        for identifier in (name, template or "x"):
            _check_identifier(identifier)
        self._server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
        copy = f' TEMPLATE "{template}"' if template else ""
        self._server.psql(f'CREATE DATABASE "{name}"{copy};')
        return str(self._server.get_uri(name))

    def stop(self) -> None:
        """Stop the server process now (fast shutdown; committed data is safe)."""
        if self._server is None:
            return
        from pgserver._commands import pg_ctl

        info = self._server._postmaster_info
        if info is not None and info.process.is_running():
            log.info("stopping embedded postgresql", extra={"pgdata": str(self.pgdata)})
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)
            except subprocess.CalledProcessError:
                info.process.terminate()

    def restart(self) -> str:
        """Start the server again after :meth:`stop` (same folder, same URL)."""
        if self._server is None:
            return self.start()
        self._server._postmaster_info = None
        self._server.ensure_postgres_running()
        return self.url

    def close(self) -> None:
        """Stop the server and forget it (the folder stays for the next start)."""
        if self._server is None:
            return
        self.stop()
        server, self._server = self._server, None
        server._postmaster_info = None  # already stopped: pgserver's own cleanup must not retry
        server._cleanup()


def _check_identifier(name: str) -> None:
    """Database names are spliced into psql commands: letters, digits and _ only."""
    if not name or not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"database name must be ASCII letters, digits and underscores: {name!r}")
