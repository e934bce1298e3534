"""routing/ is a functional core: it imports nothing that does I/O.

The exception is the routing engine, the imperative shell around that core, whose
modules live in the same package (:data:`SHELL`). The pure modules never import them,
so the core stays testable and replayable on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "routing"
FORBIDDEN = {"gevent", "socket", "psycopg2", "psycogreen", "flask", "flask_socketio", "socketio", "greenswitch",
             "requests", "urllib.request", "http", "subprocess", "threading", "asyncio", "time", "logging", "cti", "esl"}
#: The routing engine's modules (routing/engine.py and what it is made of).
SHELL = {"engine", "engine_api", "arrivals", "agent_feed", "ivr_runner", "queue_runner", "offers", "callbacks",
         "callback_schedule", "sessions", "site", "persistence", "lanes", "clock", "queue_figures", "recovery",
         "queue_transfer"}


@pytest.mark.parametrize("path", sorted(p for p in ROUTING.glob("*.py") if p.stem not in SHELL), ids=lambda p: p.name)
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = {name for name in imported if name in FORBIDDEN or name.split(".")[0] in FORBIDDEN}
    bad |= {name for name in imported if name.startswith("routing.") and name.split(".")[1] in SHELL}
    assert not bad, f"{path.name} imports {sorted(bad)}"
