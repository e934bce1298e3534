"""The pure outbound modules import nothing that does I/O or needs the event loop."""

from __future__ import annotations

import subprocess
import sys

PURE = (
    "outbound.abandon",
    "outbound.campaign_settings",
    "outbound.campaign_states",
    "outbound.compliance",
    "outbound.errors",
    "outbound.estimators",
    "outbound.import_rows",
    "outbound.pacing",
    "outbound.phone",
    "outbound.retries",
    "outbound.windows",
)
FORBIDDEN = ("gevent", "psycopg2", "flask", "flask_socketio", "socketio", "socket", "pandas", "select")


def test_pure_modules_import_no_io_libraries() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    # A fresh interpreter: this test process has gevent and psycopg2 loaded by conftest.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
