"""The nightly report jobs as the site registers them (cti.report_jobs): settings read
and checked, jobs on a real APScheduler, and the export job writing real files."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from cti.config import ConfigError
from cti.db import Database
from cti.report_jobs import daily_export, register_site_jobs
from reports.jobs import DEFAULT_DAILY_REPORTS, EXPORT_JOB_ID, ROLLUP_JOB_ID
from tests.reports.store import Store

TZ = "Asia/Shanghai"


@pytest.mark.parametrize(("extra", "folder", "names"), [
    ({}, "/data/reports", DEFAULT_DAILY_REPORTS),
    ({"CTI_REPORTS_EXPORT_DIR": "/srv/exports"}, "/srv/exports", DEFAULT_DAILY_REPORTS),
    ({"CTI_REPORTS_DAILY": "inbound_summary, call_detail,inbound_summary"}, "/data/reports",
     ("inbound_summary", "call_detail")),
    ({"CTI_REPORTS_DAILY": "None"}, "/data/reports", ()),
])
def test_settings(extra: dict[str, str], folder: str, names: tuple[str, ...]) -> None:
    export = daily_export(extra, "/data")
    assert export.folder == Path(folder) and export.names == names


def test_an_unknown_report_stops_start_up_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match=r"CTI_REPORTS_DAILY: unknown report\(s\) inbound_sumary"):
        daily_export({"CTI_REPORTS_DAILY": "inbound_sumary"}, "/data")


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    """A running but paused scheduler: jobs are stored as on a site, none fires."""
    running = BackgroundScheduler()
    running.start(paused=True)
    yield running
    running.shutdown(wait=False)


def register_twice(scheduler: BackgroundScheduler, extra: dict[str, str], tmp_path: Path) -> None:
    for _ in range(2):  # a restart registers again
        register_site_jobs(scheduler, extra=extra, database_url="postgresql://unused", tz=TZ, data_dir=tmp_path)


def test_jobs_are_registered_once_in_the_site_zone(scheduler: BackgroundScheduler, tmp_path: Path) -> None:
    register_twice(scheduler, {"CTI_REPORTS_DAILY": "inbound_summary"}, tmp_path)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert len(scheduler.get_jobs()) == 2 and set(jobs) == {ROLLUP_JOB_ID, EXPORT_JOB_ID}
    export = jobs[EXPORT_JOB_ID]
    assert str(export.trigger.timezone) == TZ
    assert export.args[1:3] == (str(tmp_path / "reports"), ["inbound_summary"])
    assert export.coalesce is True and export.misfire_grace_time == 3600


def test_none_keeps_only_the_roll_up(scheduler: BackgroundScheduler, tmp_path: Path) -> None:
    register_twice(scheduler, {"CTI_REPORTS_DAILY": "none"}, tmp_path)
    assert [job.id for job in scheduler.get_jobs()] == [ROLLUP_JOB_ID]


def test_the_export_job_writes_the_day_in_the_site_zone(db: Database, database_url: str, tmp_path: Path,
                                                       scheduler: BackgroundScheduler) -> None:
    s = Store(db, TZ)
    s.queue("sales")
    for local in ("2026-01-05 00:10", "2026-01-05 23:50", "2026-01-06 00:10"):
        iid = s.interaction(local, queue="sales", answered=5)
        s.visit(iid, 1, "sales", local, wait=5, outcome="answered")
    extra = {"CTI_REPORTS_DAILY": "inbound_summary", "CTI_REPORTS_EXPORT_DIR": str(tmp_path)}
    register_site_jobs(scheduler, extra=extra, database_url=database_url, tz=TZ, data_dir=tmp_path)
    job = scheduler.get_job(EXPORT_JOB_ID)
    written = job.func(*job.args, day=date(2026, 1, 5))
    assert written == [tmp_path / "2026-01-05" / "inbound_summary.csv"]
    with written[0].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(int(r["offered"]) for r in rows) == 2  # the two calls of the local day
