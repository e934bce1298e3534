"""What ``cti report`` runs (the lead wires these into click).

``cti report NAME --from --to --interval --by --format csv|xlsx|json [--out FILE]``
calls :func:`run`; ``cti report rebuild --from --to`` calls :func:`rebuild_rollup`.
List reports are streamed chunk by chunk, so a CSV of millions of calls never sits in
memory. Mistakes raise :class:`reports.errors.ReportError`, whose message is meant to
be shown as is (one line, exit status 2).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from reports import rollup
from reports.catalog import iter_report
from reports.export import export
from reports.intervals import make_window
from reports.queries import DbLike

log = logging.getLogger(__name__)


def run(name: str, start: datetime | date | str, end: datetime | date | str, interval: str,
        by: str | Sequence[str] | None, fmt: str, out_path: Path | str | None, db: DbLike, *, tz: str = "UTC",
        filters: Mapping[str, Any] | None = None, stdout: IO[str] | None = None) -> None:
    """Run report ``name`` and write it as ``fmt`` to ``out_path`` (stdout if None).

    When writing to a file, one line on stderr says how many rows went where.
    """
    target = Path(out_path) if out_path is not None else None
    frames = iter_report(db, name, start=start, end=end, interval=interval, by=by, filters=filters, tz=tz)
    rows = export(frames, fmt, target, stdout if stdout is not None else sys.stdout)
    log.info("report written", extra={"report": name, "rows": rows, "out": str(target or "-")})
    if target is not None:
        sys.stderr.write(f"{name}: {rows} rows written to {target}\n")


def rebuild_rollup(db: DbLike, start: datetime | date | str, end: datetime | date | str, *, tz: str = "UTC") -> int:
    """Recompute the pre-aggregated queue slots for ``[start, end)``; rows written."""
    window = make_window(start, end, tz)
    return rollup.rebuild(db, window.start, window.end)
