"""What the bench scripts share, so that each script holds only its own measurement.

* Results: each script owns one section of ``bench/RESULTS.md``, between the markers
  ``<!-- <key>:begin -->`` and ``<!-- <key>:end -->``; :func:`write_section` replaces it
  in place (or appends it the first time) and leaves every other section alone.
  :func:`machine` is the line that says where and when a run was measured.
* Figures: :func:`percentile` and :func:`percentiles` (nearest rank from below, the same
  rule for every script, so their tables compare).
* Processes: a script that needs the simulated switch (or a crowd of Socket.IO clients)
  runs it in a child process of itself -- on a shared 2-core machine that keeps the
  middleware's process honest. :class:`Child` is the parent's end, talking in lines on
  stdin/stdout; :func:`commands` is the child's end.
* A site: bench agents (:func:`agents`), the settings of a middleware wired to the
  child's switch (:func:`site_settings`), and logging every agent in (:func:`log_in`).

A script runs as ``.venv/bin/python bench/<name>.py``: it puts the repository root on
``sys.path`` (and calls ``gevent.monkey.patch_all()`` when it needs gevent) before it
imports this module.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gevent

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
#: The header a fresh RESULTS.md starts with.
RESULTS_HEADER = "# Benchmark results\n\nEach script replaces its own section.\n"
#: Extension of the first bench agent's phone; agent n has ``FIRST_EXTENSION + n``.
FIRST_EXTENSION = 7000


# --- results ---------------------------------------------------------------------------------


def write_section(key: str, title: str, body: str, results: Path = RESULTS) -> None:
    """Put ``## title`` and ``body`` between this script's markers in ``results``:
    in place of the section already there, or at the end the first time."""
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    text = results.read_text(encoding="utf-8") if results.exists() else RESULTS_HEADER
    section = f"{begin}\n## {title}\n\n{body.strip()}\n{end}"
    start, stop = text.find(begin), text.find(end)
    if start >= 0 and stop > start:
        text = text[:start] + section + text[stop + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


def machine() -> str:
    """Date, Python and hardware of this run, for the first line of a section."""
    return (f"{datetime.date.today().isoformat()}, {platform.python_implementation()} "
            f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The value below which a share ``q`` (0 to 1) of ``values`` lies; ``values`` must
    not be empty."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """Count, p50, p95, p99 and max of durations in seconds, in milliseconds (NaN when
    there are none, so a table still renders)."""
    if not seconds:
        nan = float("nan")
        return {"n": 0, "p50_ms": nan, "p95_ms": nan, "p99_ms": nan, "max_ms": nan}
    return {"n": len(seconds), **{f"p{round(q * 100)}_ms": round(percentile(seconds, q) * 1000, 2)
                                  for q in (0.50, 0.95, 0.99)},
            "max_ms": round(max(seconds) * 1000, 2)}


# --- child processes -------------------------------------------------------------------------


class Child:
    """A child process running ``script`` with ``args``, talking in lines on
    stdin/stdout (gevent's cooperative pipes: reading waits without blocking the hub)."""

    def __init__(self, script: str, *args: str) -> None:
        self.args = args
        self.proc = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def line(self, timeout: float = 300.0) -> str:
        """The next line the child prints; TimeoutError if it stays silent that long."""
        assert self.proc.stdout is not None
        with gevent.Timeout(timeout, TimeoutError(f"child {' '.join(self.args)} silent for {timeout} s")):
            return self.proc.stdout.readline().strip()

    def port(self) -> int:
        """The port of the child's switch: its first line is ``port <n>``."""
        return int(self.line().split()[1])

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def ask(self, line: str, answer: str = "ok", timeout: float = 300.0) -> None:
        """Send ``line`` and check that the child answers ``answer``."""
        self.send(line)
        got = self.line(timeout)
        if got != answer:
            raise RuntimeError(f"child answered {got!r} to {line!r}, expected {answer!r}")

    def close(self, timeout: float = 60.0) -> None:
        """End of input (the child's cue to stop), then wait; kill it if it lingers."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def commands() -> Iterator[list[str]]:
    """The child's end: the words of each line the parent sends, until end of input.
    Lines are read in the hub's thread pool so the child's greenlets (the simulated
    switch) keep running while it waits."""
    threads = gevent.get_hub().threadpool
    while line := threads.apply(sys.stdin.readline):
        words = line.split()
        if words:
            yield words


def announce(switch: Any) -> None:
    """Start the child's simulated switch and tell the parent its port."""
    switch.start()
    print(f"port {switch.port}", flush=True)


def register_phones(switch: Any, count: int, answer_after: Callable[[], float]) -> None:
    """The child's answer to ``phones <count>``: the agents' phones, from
    :data:`FIRST_EXTENSION` on, each answering after ``answer_after()`` seconds."""
    for n in range(count):
        switch.register_phone(str(FIRST_EXTENSION + n), answer_after=answer_after())
    print("ok", flush=True)


# --- a site ----------------------------------------------------------------------------------


def agents(prefix: str, count: int, queue: str) -> list[dict[str, Any]]:
    """``count`` agents of ``queue`` for :func:`cti.provision.provision`, phones from
    :data:`FIRST_EXTENSION` on; nobody signs in with a password."""
    from cti.users import hash_password

    password_hash = hash_password("bench-agents-never-sign-in")
    return [{"username": f"{prefix}{n:05d}", "password_hash": password_hash, "code": str(FIRST_EXTENSION + n),
             "extension": str(FIRST_EXTENSION + n), "queues": [queue]} for n in range(count)]


def site_settings(data_dir: Path, database_url: str, esl_password: str, esl_port: int, **extra: str) -> Any:
    """Settings of a middleware on ``database_url`` connected to the child's switch
    (node ``fs1`` on this machine), HTTP on any free port; ``extra`` adds ``CTI_``
    variables."""
    from cti.config import load_settings

    return load_settings({
        "CTI_DATA_DIR": str(data_dir), "CTI_DATABASE_URL": database_url, "CTI_HTTP": "127.0.0.1:0",
        "CTI_ESL": f"esl://fs1:{esl_password}@127.0.0.1:{esl_port}", "CTI_LOG_LEVEL": "WARNING", **extra,
    })


def agent_rows(db: Any) -> list[dict[str, Any]]:
    """Every agent's id, user id and default extension, by id."""
    return [dict(r) for r in db.fetchall("SELECT id, user_id, default_extension FROM agents ORDER BY id")]


def log_in(core: Any, rows: Iterable[dict[str, Any]], now: float) -> None:
    """Log each agent of ``rows`` (from :func:`agent_rows`) in, ready, on its own phone."""
    for row in rows:
        core.command(core.state.agent_login, row["id"], row["default_extension"], now=now, ready=True)


def quiet_logging() -> None:
    """Warnings and worse only: the bench's own output is its tables."""
    import logging

    from cti.logs import configure_logging

    configure_logging("WARNING")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
