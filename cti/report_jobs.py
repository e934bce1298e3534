"""The site's daily report jobs, registered on the site's one APScheduler.

Settings (read from ``settings.extra``; validated here, so a mistake stops start-up
with one line naming the variable):

``CTI_REPORTS_EXPORT_DIR``
    folder of the daily exports, one sub-folder per day (``2026-01-05/NAME.csv``);
    default ``<data dir>/reports``.
``CTI_REPORTS_DAILY``
    comma-separated report names exported every night for the previous local day;
    default :data:`reports.jobs.DEFAULT_DAILY_REPORTS`; ``none`` turns the export off
    (the nightly roll-up rebuild stays: reports rely on it).

The jobs themselves (ids, times, ``coalesce`` and grace) are
:func:`reports.jobs.schedule`'s; they run in the scheduler's process-pool executor
because report building is pandas work that must not hold the gevent hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cti.config import ConfigError
from reports.catalog import REPORTS
from reports.jobs import DEFAULT_DAILY_REPORTS, EXPORT_JOB_ID, schedule


@dataclass(frozen=True)
class DailyExport:
    folder: Path
    names: tuple[str, ...]     # empty: no export


def daily_export(extra: Mapping[str, str], data_dir: str | Path) -> DailyExport:
    """The daily export's folder and reports from the settings.

    Raises:
        ConfigError: ``CTI_REPORTS_DAILY`` names a report that does not exist.
    """
    folder = Path(extra.get("CTI_REPORTS_EXPORT_DIR", "").strip() or Path(data_dir) / "reports").expanduser()
    text = extra.get("CTI_REPORTS_DAILY", "").strip()
    if text.lower() == "none":
        return DailyExport(folder, ())
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip())) or DEFAULT_DAILY_REPORTS
    unknown = [n for n in names if n not in REPORTS]
    if unknown:
        raise ConfigError(f"CTI_REPORTS_DAILY: unknown report(s) {', '.join(unknown)}; "
                          f"choose from {', '.join(REPORTS)}, or none")
    return DailyExport(folder, names)


def register_site_jobs(scheduler: Any, *, extra: Mapping[str, str], database_url: str, tz: str,
                       data_dir: str | Path, executor: str = "default") -> DailyExport:
    """Add the nightly roll-up and export to ``scheduler`` (idempotent: fixed ids,
    ``replace_existing``); returns what the export will write.

    ``executor`` should name a process-pool executor of the scheduler.
    """
    export = daily_export(extra, data_dir)
    schedule(scheduler, database_url=database_url, folder=export.folder, tz=tz,
             names=export.names or DEFAULT_DAILY_REPORTS, executor=executor)
    if not export.names:
        scheduler.remove_job(EXPORT_JOB_ID)
    return export
