"""Scheduled work for reports: the daily export and the daily roll-up rebuild.

Both job functions take a database URL (not a pool) and plain arguments so they can
run in a worker process: report building is heavy pandas work that must not stall
the gevent hub. :func:`schedule` registers them on the site's one APScheduler with
explicit ids, ``replace_existing`` (a restart re-registers, never duplicates),
``coalesce`` (after downtime, one run catches up instead of one per missed day) and a
one-hour ``misfire_grace_time`` (a run late by less than that still happens).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from reports import rollup
from reports.catalog import REPORTS, iter_report
from reports.errors import ReportError
from reports.export import export
from reports.intervals import make_window, zone

log = logging.getLogger(__name__)

EXPORT_JOB_ID = "reports.export_daily"
ROLLUP_JOB_ID = "reports.rollup_daily"
DEFAULT_DAILY_REPORTS = ("inbound_summary", "agent_performance", "abandoned_calls", "call_detail")


def _yesterday(tz: str) -> date:
    return (pd.Timestamp.now(tz=zone(tz)).normalize() - pd.Timedelta(days=1)).date()


def export_daily(db: Any, folder: str | Path, names: Sequence[str], tz: str, day: date | None = None,
                 *, fmt: str = "csv", interval: str = "30min") -> list[Path]:
    """Write each report of ``names`` for the local ``day`` (default: yesterday) to
    ``folder/YYYY-MM-DD/NAME.FMT``; returns the files written.

    A file appears complete or not at all (written aside, then renamed). A report that
    fails is logged and skipped: one broken report never stops the others.
    """
    day = day or _yesterday(tz)
    target = Path(folder) / day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = target / f"{name}.{fmt}"
        partial = target / f".{name}.{fmt}.partial"
        try:
            frames = iter_report(db, name, start=day, end=day + timedelta(days=1), interval=interval, tz=tz)
            export(frames, fmt, partial)
            os.replace(partial, path)
            written.append(path)
        except Exception as exc:
            partial.unlink(missing_ok=True)
            level = logging.WARNING if isinstance(exc, ReportError) else logging.ERROR
            log.log(level, "daily report export failed", exc_info=not isinstance(exc, ReportError),
                    extra={"report": name, "day": day.isoformat(), "error": str(exc)})
    return written


def rollup_daily(db: Any, tz: str, day: date | None = None) -> int:
    """Rebuild the pre-aggregated queue slots of the local ``day`` (default: yesterday)."""
    day = day or _yesterday(tz)
    window = make_window(day, day + timedelta(days=1), tz)
    return rollup.rebuild(db, window.start, window.end)


def schedule(scheduler: Any, *, database_url: str, folder: str | Path, tz: str,
             names: Sequence[str] = DEFAULT_DAILY_REPORTS, hour: int = 0, minute: int = 30,
             executor: str = "default") -> None:
    """Register the daily roll-up (at ``hour:minute`` local) and export (10 minutes later).

    ``executor`` should name a process-pool executor of the scheduler in the server.
    """
    unknown = [n for n in names if n not in REPORTS]
    if unknown:
        raise ReportError(f"unknown report(s) for the daily export: {', '.join(unknown)}")
    common = {"trigger": "cron", "timezone": zone(tz), "replace_existing": True, "coalesce": True,
              "misfire_grace_time": 3600, "max_instances": 1, "executor": executor}
    scheduler.add_job(rollup_daily, id=ROLLUP_JOB_ID, hour=hour, minute=minute, args=[database_url, tz], **common)
    later = (hour * 60 + minute + 10) % (24 * 60)
    scheduler.add_job(export_daily, id=EXPORT_JOB_ID, hour=later // 60, minute=later % 60,
                      args=[database_url, str(folder), list(names), tz], **common)
