"""The call/agent core is a functional core: no I/O library anywhere in its imports."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

CORE = (
    "cti.call_states", "cti.call_facts", "cti.call_ops", "cti.call_media", "cti.call_commands",
    "cti.call_record", "cti.call_segments", "cti.calls", "cti.interaction", "cti.agent_states",
    "cti.agents", "cti.agent_sync", "cti.legs", "cti.channel_facts", "cti.live_store", "cti.resync",
    "cti.tracker",
)
FORBIDDEN = {"gevent", "socket", "psycopg2", "psycogreen", "flask", "flask_socketio", "socketio",
             "greenswitch", "threading", "subprocess", "requests", "select", "asyncio"}


def imports_of(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def closure(module: str) -> set[str]:
    """Every module ``module`` imports, following our own packages (cti, esl)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in imports_of(name):
            if imported.split(".")[0] in ("cti", "esl") and importlib.util.find_spec(imported.rsplit(".", 1)[0]):
                target = imported if _is_module(imported) else imported.rsplit(".", 1)[0]
                todo.append(target)
            else:
                seen.add(imported)
    return seen


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io_library(module: str) -> None:
    roots = {name.split(".")[0] for name in closure(module)}
    assert not roots & FORBIDDEN, f"{module} reaches {sorted(roots & FORBIDDEN)}"
