"""The pure core of reports imports no I/O library (checked in a clean interpreter,
since the test process itself has gevent and psycopg2 loaded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PURE = ["reports.kpi", "reports.intervals", "reports.erlang", "reports.forecast", "reports.charts",
        "reports.shaping", "reports.request"]
FORBIDDEN = ("gevent", "psycopg2", "flask", "socketio", "socket")


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    probe = (f"import sys, {module}; "
             f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
