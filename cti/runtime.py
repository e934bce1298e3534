"""Running a site in one gevent process until SIGINT/SIGTERM, then stopping cleanly.

Shutdown order: stop accepting HTTP, then stop the services newest-first (no new calls
taken, pending writes flushed, ESL closed), then the database and the embedded
PostgreSQL. A second signal during shutdown is ignored rather than leaving half-stopped
components behind.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

import gevent
from gevent.event import Event
from gevent.pywsgi import WSGIServer

from cti.services import Services

log = logging.getLogger(__name__)


class _QuietLog:
    """gevent's access log, sent to our logger at debug level (one line per request)."""

    def write(self, line: str) -> None:
        log.debug("http", extra={"access": line.strip()})


def make_http_server(app: object, host: str, port: int) -> WSGIServer:
    return WSGIServer((host, port), app, log=_QuietLog(), error_log=_QuietLog())


def run_until_signalled(
    services: Services,
    app: object,
    *,
    on_ready: Callable[[str], None] | None = None,
    extra_stops: tuple[Callable[[], None], ...] = (),
) -> None:
    """Serve ``app`` on the configured address until a signal, then shut down cleanly."""
    settings = services.settings
    stop_requested = Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop_requested.set)
    server = make_http_server(app, settings.http_host, settings.http_port)
    try:
        services.start()
        server.start()
        url = f"http://{settings.http_host}:{server.server_port}/"
        log.info("serving", extra={"url": url})
        if on_ready is not None:
            on_ready(url)
        stop_requested.wait()
        log.info("shutting down")
    finally:
        server.stop(timeout=5)
        services.stop()
        for stop in extra_stops:  # what the services used (the demo's simulated switch) goes last
            try:
                stop()
            except Exception:
                log.exception("stop hook failed")
        log.info("stopped")
