"""Is a functional core still free of I/O? Asked of a fresh interpreter, because the
test process itself has gevent, psycopg2 and the rest loaded by conftest."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_by(modules: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    """Which of the top-level packages ``forbidden`` importing ``modules`` loads."""
    code = (
        "import importlib, sys\n"
        f"for name in {list(modules)!r}: importlib.import_module(name)\n"
        f"print(','.join(sorted(m for m in {sorted(set(forbidden))!r} if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return [name for name in result.stdout.strip().split(",") if name]
