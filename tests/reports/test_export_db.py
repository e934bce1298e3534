"""Exports (CSV, XLSX, JSON), the CLI function and the scheduled jobs, on the real store."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from openpyxl import load_workbook

from cti.db import Database
from reports import cli, jobs, queries
from reports.catalog import run_report
from reports.errors import ReportError
from tests.reports.store import Store

TZ = "America/New_York"
DAY = "2026-06-02"


@pytest.fixture(scope="module")
def store(db: Database) -> Iterator[Store]:
    s = Store(db, TZ)
    s.queue("sales", 20)
    for n, (start, wait, outcome) in enumerate([("09:00", 10, "answered"), ("09:05", 30, "abandoned"),
                                                ("09:40", 12, "answered"), ("14:00", 2, "abandoned")]):
        iid = s.interaction(f"{DAY} {start}", queue="sales", caller=f"+1202555{n:04d}",
                            answered=wait if outcome == "answered" else None)
        s.visit(iid, 1, "sales", f"{DAY} {start}", wait=wait, outcome=outcome)
    yield s


def test_csv_to_stdout_has_iso_times_and_empty_undefined_kpis(store: Store) -> None:
    out = io.StringIO()
    cli.run("inbound_summary", f"{DAY} 09:00", f"{DAY} 10:30", "30min", "queue", "csv", None, store.db, tz=TZ,
            stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["interval_start"] for r in rows] == ["2026-06-02T09:00:00-04:00", "2026-06-02T09:30:00-04:00",
                                                   "2026-06-02T10:00:00-04:00"]
    assert rows[0]["offered"] == "2" and rows[0]["service_level"] == "0.5"
    assert rows[2]["offered"] == "0" and rows[2]["service_level"] == ""


def test_xlsx_file_with_about_sheet(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    cli.run("inbound_summary", DAY, "2026-06-03", "hour", None, "xlsx", path, store.db, tz=TZ)
    book = load_workbook(path, read_only=True)
    rows = list(book["report"].iter_rows(values_only=True))
    header, nine = rows[0], rows[10]
    assert header[:3] == ("interval_start", "queue", "visits")
    assert str(nine[0]) == "2026-06-02 09:00:00" and nine[1] == "sales" and nine[2] == 3
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["tz"] == TZ and about["report"] == "inbound_summary" and about["interval"] == "hour"
    with pytest.raises(ReportError, match="give --out FILE.xlsx"):
        cli.run("inbound_summary", DAY, "2026-06-03", "hour", None, "xlsx", None, store.db, tz=TZ)


def test_json_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "abandoned.json"
    cli.run("abandoned_calls", DAY, "2026-06-03", "day", None, "json", path, store.db, tz=TZ)
    document = json.loads(path.read_text())
    assert document["report"]["report"] == "abandoned_calls"
    assert [r["wait_s"] for r in document["rows"]] == [30.0, 2.0]
    assert [r["short_abandon"] for r in document["rows"]] == [False, True]
    assert document["rows"][0]["entered_at"] == "2026-06-02T09:05:00-04:00"


def test_call_detail_streams_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(queries, "CHUNK_ROWS", 3)
    path = tmp_path / "cdr.csv"
    cli.run("call_detail", DAY, "2026-06-03", "day", None, "csv", path, store.db, tz=TZ)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("interval_start,interaction_id") and len(lines) == 1 + 4
    assert len(run_report(store.db, "call_detail", start=DAY, end="2026-06-03", tz=TZ)) == 4


def test_unknown_format(store: Store) -> None:
    with pytest.raises(ReportError, match="use one of csv, xlsx, json"):
        cli.run("inbound_summary", DAY, "2026-06-03", "day", None, "pdf", None, store.db, tz=TZ)


def test_export_daily_writes_what_works_and_logs_what_fails(store: Store, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reports.jobs"):
        written = jobs.export_daily(store.db.url, tmp_path, ["inbound_summary", "staffing"], TZ,
                                    date(2026, 6, 2), interval="day")
    assert written == [tmp_path / "2026-06-02" / "inbound_summary.csv"]
    assert "2026-06-02T00:00:00-04:00,sales,4" in written[0].read_text()
    assert sorted(p.name for p in (tmp_path / "2026-06-02").iterdir()) == ["inbound_summary.csv"]
    assert any(r.report == "staffing" for r in caplog.records)


def test_rollup_daily_and_schedule(store: Store) -> None:
    assert jobs.rollup_daily(store.db.url, TZ, date(2026, 6, 2)) == 3       # three 15-minute slots had calls
    rolled = run_report(store.db, "inbound_summary", start=DAY, end="2026-06-03", tz=TZ, filters={"source": "rollup"})
    assert rolled.iloc[0]["offered"] == 3
    scheduler = BackgroundScheduler()
    jobs.schedule(scheduler, database_url="postgresql://x/y", folder="/tmp/r", tz=TZ, hour=1, minute=55)
    jobs.schedule(scheduler, database_url="postgresql://x/y", folder="/tmp/r", tz=TZ, hour=1, minute=55)
    found = {job.id: job for job in scheduler.get_jobs()}
    assert set(found) == {jobs.ROLLUP_JOB_ID, jobs.EXPORT_JOB_ID}
    assert str(found[jobs.EXPORT_JOB_ID].trigger) == "cron[hour='2', minute='5']"
    with pytest.raises(ReportError, match="unknown report"):
        jobs.schedule(scheduler, database_url="x", folder="/tmp/r", tz=TZ, names=["nope"])
