"""The pure outbound modules, the dialer's among them, import nothing that does I/O or
needs the event loop."""

from __future__ import annotations

from tests.purity import loaded_by

PURE = (
    "outbound.abandon",
    "outbound.campaign_config",
    "outbound.campaign_settings",
    "outbound.campaign_states",
    "outbound.campaign_stats",
    "outbound.compliance",
    "outbound.errors",
    "outbound.estimators",
    "outbound.import_rows",
    "outbound.line_states",
    "outbound.pacing",
    "outbound.phone",
    "outbound.retries",
    "outbound.windows",
)
FORBIDDEN = ("gevent", "psycopg2", "flask", "flask_socketio", "socketio", "socket", "pandas", "select",
             "apscheduler", "greenswitch")


def test_pure_modules_import_no_io_libraries() -> None:
    assert loaded_by(PURE, FORBIDDEN) == []
