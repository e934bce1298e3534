"""routing/ is a functional core: it imports nothing that does I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "routing"
FORBIDDEN = {"gevent", "socket", "psycopg2", "psycogreen", "flask", "flask_socketio", "socketio", "greenswitch",
             "requests", "urllib.request", "http", "subprocess", "threading", "asyncio", "time", "logging", "cti", "esl"}


@pytest.mark.parametrize("path", sorted(ROUTING.glob("*.py")), ids=lambda p: p.name)
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = {name for name in imported if name in FORBIDDEN or name.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.name} imports {sorted(bad)}"
