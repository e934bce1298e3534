"""The pure core of reports imports no I/O library (checked in a clean interpreter,
since the test process itself has gevent and psycopg2 loaded)."""

from __future__ import annotations

import pytest

from tests.purity import loaded_by

PURE = ["reports.kpi", "reports.intervals", "reports.erlang", "reports.forecast", "reports.charts",
        "reports.shaping", "reports.request"]
FORBIDDEN = ("gevent", "psycopg2", "flask", "socketio", "socket")


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    assert loaded_by([module], FORBIDDEN) == []
