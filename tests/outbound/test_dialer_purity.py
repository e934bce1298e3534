"""The dialer's pure modules import nothing that does I/O or needs the event loop."""

from __future__ import annotations

import subprocess
import sys

PURE = ("outbound.campaign_config", "outbound.line_states", "outbound.campaign_stats")
FORBIDDEN = ("gevent", "psycopg2", "flask", "flask_socketio", "socketio", "socket", "pandas", "select",
             "apscheduler", "greenswitch")


def test_pure_dialer_modules_import_no_io_libraries() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
