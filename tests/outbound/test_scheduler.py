"""The site scheduler: jobs derived from the campaigns table, rebuilt at start (so a
restart keeps every schedule), timed campaign events, dialling windows, daily jobs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import gevent
import pytest

from cti.db import Database
from outbound import campaign_sql, store
from outbound.campaign_states import CampaignEvent, CampaignState
from outbound.scheduler import RETENTION_JOB_ID, SiteScheduler, job_ids

_names = itertools.count(1)
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Two windows that together cover every minute of the week.
ALWAYS = [{"days": EVERY_DAY, "start": "00:00", "end": "12:00"}, {"days": EVERY_DAY, "start": "12:00", "end": "00:00"}]


class Driver:
    """Stands in for the dialer: records what the scheduler asks of it."""

    def __init__(self) -> None:
        self.ticks: list[int] = []
        self.events: list[tuple[int, CampaignEvent, str]] = []

    def tick(self, campaign_id: int) -> None:
        self.ticks.append(campaign_id)

    def control(self, campaign_id: int, event: CampaignEvent, *, actor: str = "", actor_id: int | None = None,
                actor_type: str = "user") -> dict[str, Any]:
        self.events.append((campaign_id, event, actor_type))
        return {}


def campaign(db: Database, state: str, **columns: Any) -> int:
    with db.transaction() as cur:
        campaign_id = campaign_sql.create_campaign(cur, f"sched-{next(_names)}", {
            "mode": "agentless", "caller_id_number": "+442071234567", **columns})
        campaign_sql.set_state(cur, campaign_id, CampaignState(state))
    return campaign_id


def scheduler(db: Database, driver: Driver, **extra: str) -> SiteScheduler:
    return SiteScheduler(db, driver, site_zone="Asia/Shanghai", database_url=db.url, extra=extra, data_dir="/tmp")


def jobs_of(sched: SiteScheduler, campaign_id: int) -> dict[str, datetime | None]:
    prefix = job_ids(campaign_id)[3]
    return {j["id"].removeprefix(prefix): j["next_run_time"] for j in sched.jobs() if j["id"].startswith(prefix)}


@pytest.fixture
def driver() -> Driver:
    return Driver()


def test_a_restart_keeps_every_schedule(db: Database, driver: Driver) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    scheduled = campaign(db, "scheduled", starts_at=later, ends_at=later + timedelta(days=1))
    windows = [{"days": ["mon", "wed"], "start": "09:00", "end": "17:00"},
               {"days": ["sat"], "start": "22:00", "end": "02:00"}]
    running = campaign(db, "running", settings={"timezone": "Europe/London", "schedule": windows})
    draft = campaign(db, "draft", starts_at=later)

    first = scheduler(db, driver)
    first.start()
    before = {c: jobs_of(first, c) for c in (scheduled, running, draft)}
    first.stop()
    second = scheduler(db, driver)
    second.start()
    after = {c: jobs_of(second, c) for c in (scheduled, running, draft)}
    second.stop()

    assert after == before
    assert set(before[scheduled]) == {"start", "end"} and before[scheduled]["start"] == later
    assert {"open:0", "close:0", "open:1", "close:1"} <= set(before[running])
    assert before[draft] == {}
    opens = before[running]["open:1"]
    assert opens is not None and opens.astimezone(ZoneInfo("Europe/London")).strftime("%a %H:%M") == "Sat 22:00"
    closes = before[running]["close:1"]
    assert closes is not None and closes.astimezone(ZoneInfo("Europe/London")).strftime("%a %H:%M") == "Sun 02:00"


def test_a_start_time_that_passed_while_down_still_starts_the_campaign(db: Database, driver: Driver) -> None:
    campaign_id = campaign(db, "scheduled", starts_at=datetime.now(UTC) - timedelta(hours=1))
    sched = scheduler(db, driver)
    sched.start()
    try:
        with gevent.Timeout(5):
            while (campaign_id, CampaignEvent.START_TIME, "system") not in driver.events:
                gevent.sleep(0.02)
    finally:
        sched.stop()


def test_a_running_campaign_ticks_inside_its_windows_only(db: Database, driver: Driver) -> None:
    campaign_id = campaign(db, "running", settings={"timezone": "UTC", "schedule": ALWAYS})
    sched = scheduler(db, driver)
    sched.start()
    try:
        assert "pacing" in jobs_of(sched, campaign_id)
        with gevent.Timeout(5):
            while campaign_id not in driver.ticks:
                gevent.sleep(0.02)
        close = sched.scheduler.get_job(f"{job_ids(campaign_id)[3]}close:0")
        close.func(*close.args)
        assert "pacing" not in jobs_of(sched, campaign_id)
        opened = sched.scheduler.get_job(f"{job_ids(campaign_id)[3]}open:0")
        opened.func(*opened.args)
        assert "pacing" in jobs_of(sched, campaign_id)
    finally:
        sched.stop()


def test_no_pacing_outside_the_windows(db: Database, driver: Driver) -> None:
    now = datetime.now(ZoneInfo("UTC"))
    closed = [{"days": EVERY_DAY,
               "start": (now + timedelta(hours=2)).strftime("%H:%M"), "end": (now + timedelta(hours=3)).strftime("%H:%M")}]
    campaign_id = campaign(db, "running", settings={"timezone": "UTC", "schedule": closed})
    sched = scheduler(db, driver)
    sched.start()
    try:
        assert set(jobs_of(sched, campaign_id)) == {"open:0", "close:0"}
    finally:
        sched.stop()


def test_state_changes_through_the_dialer_rebuild_the_jobs(services: Any) -> None:
    services.scheduler.start()
    try:
        starts = datetime.now(UTC) + timedelta(days=1)
        campaign_id = campaign(services.db, "draft", starts_at=starts)
        with services.db.transaction() as cur:
            list_id = store.contact_list_id(cur, f"sched-list-{campaign_id}", create=True)
            campaign_sql.attach_list(cur, list_id, campaign_id)
            cur.execute("INSERT INTO outbound_contacts (list_id, e164) VALUES (%s, '+442071234567')", (list_id,))
        services.dialer.control(campaign_id, CampaignEvent.SCHEDULE, actor="test")
        assert set(jobs_of(services.scheduler, campaign_id)) == {"start"}
        services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
        assert "pacing" in jobs_of(services.scheduler, campaign_id)
        services.dialer.control(campaign_id, CampaignEvent.STOP, actor="test")
        assert jobs_of(services.scheduler, campaign_id) == {}
    finally:
        services.scheduler.stop()


def test_daily_jobs_of_other_parts(db: Database, driver: Driver) -> None:
    sched = scheduler(db, driver, CTI_RECORDINGS_RETENTION_DAYS="90")
    sched.start()
    try:
        ids = {j["id"] for j in sched.jobs()}
        assert {RETENTION_JOB_ID, "reports.rollup_daily", "reports.export_daily"} <= ids
        retention = sched.scheduler.get_job(RETENTION_JOB_ID)
        assert retention.args[1] == 90 and retention.misfire_grace_time == 3600 and retention.coalesce
    finally:
        sched.stop()
    without = scheduler(db, driver)
    without.start()
    try:
        assert RETENTION_JOB_ID not in {j["id"] for j in without.jobs()}
    finally:
        without.stop()
