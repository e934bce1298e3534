"""The site's one APScheduler: campaign pacing ticks, campaign start/end times and
dialling windows, and the daily jobs other parts provide.

Nothing is stored in the scheduler: its jobs are derived from the campaigns table
(state, ``starts_at``, ``ends_at`` and the ``schedule`` windows of ``settings``) and
rebuilt from it at start and whenever a campaign changes state
(:meth:`SiteScheduler.sync_campaign`, called by the dialer). So a restart keeps every
schedule without a job store to keep consistent, and there is exactly one source of
truth. Job ids are explicit and every ``add_job`` uses ``replace_existing``: syncing
twice never duplicates a job.

Jobs, and why each has the ``misfire_grace_time`` / ``coalesce`` it has:

``campaign:<id>:pacing`` -- every second while a running campaign is inside a
    dialling window: :meth:`outbound.dialer.Dialer.tick`. ``coalesce`` and a 1 s
    grace: a late tick is worth nothing (the next one decides from the live state
    again) and a backlog of ticks would dial in a burst; ``max_instances=1`` so a slow
    tick (a slow database) never overlaps itself.
``campaign:<id>:start`` / ``:end`` -- the campaign's ``starts_at`` / ``ends_at``.
    No grace limit (``None``): a start or end that fell while the middleware was
    down still happens when it comes back (the state machine ignores what no longer
    applies); ``coalesce``: once is enough.
``campaign:<id>:open:<n>`` / ``:close:<n>`` -- cron triggers of schedule window
    ``n`` in the campaign's time zone: open adds the pacing job, close removes it (the
    campaign stays ``running``: a schedule is not a pause a manager has to undo).
    A 5-minute grace: a window edge the process missed by a little still applies;
    one missed by more is fixed by the next sync, which looks at the clock.
Daily jobs of other parts -- recordings retention (``CTI_RECORDINGS_RETENTION_DAYS``
    days, when set: :func:`cti.recordings.delete_older_than`) and the
    reports roll-up/export (:func:`reports.jobs.schedule`, in a process pool: pandas
    work must not hold the gevent hub). One-hour grace and ``coalesce``: after
    downtime one run catches up instead of one per missed day.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.gevent import GeventExecutor
from apscheduler.executors.pool import ProcessPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.gevent import GeventScheduler

from cti.db import Database
from cti.recordings import delete_older_than
from cti.report_jobs import register_site_jobs as register_report_jobs
from outbound import campaign_sql
from outbound.campaign_config import CampaignConfig, cron_fields, load_config
from outbound.campaign_states import CampaignEvent, CampaignState
from outbound.errors import OutboundError

log = logging.getLogger(__name__)

PACING_SECONDS = 1.0
WINDOW_GRACE = 300
DAILY_GRACE = 3600
RETENTION_JOB_ID = "recordings.retention_daily"
_ACTIVE = (CampaignState.SCHEDULED, CampaignState.RUNNING, CampaignState.PAUSED)


class CampaignDriver(Protocol):
    """What the scheduler drives (the dialer)."""

    def tick(self, campaign_id: int) -> None: ...

    def control(self, campaign_id: int, event: CampaignEvent, *, actor: str = ..., actor_id: int | None = ...,
                actor_type: str = ...) -> dict[str, Any]: ...


def job_ids(campaign_id: int) -> tuple[str, str, str, str]:
    """The pacing, start, end and window-prefix job ids of a campaign."""
    prefix = f"campaign:{campaign_id}:"
    return prefix + "pacing", prefix + "start", prefix + "end", prefix


class SiteScheduler:
    """One :class:`GeventScheduler` per site (see the module docstring)."""

    def __init__(self, db: Database, driver: CampaignDriver, *, site_zone: str, database_url: str,
                 extra: dict[str, str] | None = None, data_dir: str = ".") -> None:
        self.db = db
        self.driver = driver
        self.site_zone = site_zone
        self.database_url = database_url
        self.extra = dict(extra or {})
        self.data_dir = data_dir
        self.scheduler = GeventScheduler(
            executors={"default": GeventExecutor(), "processes": ProcessPoolExecutor(1)},
            timezone=ZoneInfo(site_zone),
        )

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self.scheduler.start()
        self._daily_jobs()
        self.rebuild()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def rebuild(self) -> None:
        """Derive every campaign job from the campaigns table (at start)."""
        with self.db.transaction() as cur:
            rows = campaign_sql.campaigns(cur, _ACTIVE)
        for row in rows:
            self._sync_row(row)

    def sync_campaign(self, campaign_id: int) -> None:
        """Re-derive one campaign's jobs after it changed (its state, times or schedule)."""
        with self.db.transaction() as cur:
            row = campaign_sql.campaign(cur, campaign_id)
        if row is None:
            self._remove_campaign_jobs(campaign_id)
        else:
            self._sync_row(row)

    def jobs(self) -> list[dict[str, Any]]:
        """The jobs and their next run (for the campaign page and tests)."""
        return [{"id": job.id, "next_run_time": job.next_run_time} for job in self.scheduler.get_jobs()]

    # -- campaigns --------------------------------------------------------------------

    def _sync_row(self, row: dict[str, Any]) -> None:
        campaign_id = int(row["id"])
        try:
            config = load_config(row, site_zone=self.site_zone)
        except OutboundError as exc:
            log.error("campaign settings invalid; no jobs", extra={"campaign": campaign_id, "why": exc.message})
            self._remove_campaign_jobs(campaign_id)
            return
        pacing, start, end, _prefix = job_ids(campaign_id)
        self._remove_campaign_jobs(campaign_id)
        if config.state is CampaignState.SCHEDULED and config.starts_at is not None:
            self._at(start, config.starts_at, campaign_id, CampaignEvent.START_TIME)
        if config.state in (CampaignState.SCHEDULED, CampaignState.RUNNING, CampaignState.PAUSED) and config.ends_at:
            self._at(end, config.ends_at, campaign_id, CampaignEvent.END_TIME)
        if config.state is CampaignState.RUNNING:
            self._windows(config)
            if config.in_schedule(datetime.now(UTC)):
                self._add_pacing(campaign_id)

    def _at(self, job_id: str, when: datetime, campaign_id: int, event: CampaignEvent) -> None:
        self.scheduler.add_job(
            self._timed_event, "date", run_date=when, id=job_id, args=[campaign_id, event],
            replace_existing=True, misfire_grace_time=None, coalesce=True,
        )

    def _windows(self, config: CampaignConfig) -> None:
        _pacing, _start, _end, prefix = job_ids(config.id)
        zone = ZoneInfo(config.rules.default_zone)
        for index, window in enumerate(config.runtime.schedule):
            opens, closes = cron_fields(window)
            for kind, fields, action in (("open", opens, self._window_open), ("close", closes, self._window_close)):
                self.scheduler.add_job(
                    action, "cron", id=f"{prefix}{kind}:{index}", args=[config.id], timezone=zone,
                    replace_existing=True, misfire_grace_time=WINDOW_GRACE, coalesce=True, **fields,
                )

    def _add_pacing(self, campaign_id: int) -> None:
        pacing, _start, _end, _prefix = job_ids(campaign_id)
        self.scheduler.add_job(
            self.driver.tick, "interval", seconds=PACING_SECONDS, id=pacing, args=[campaign_id],
            replace_existing=True, misfire_grace_time=1, coalesce=True, max_instances=1,
            next_run_time=datetime.now(UTC),
        )

    def _remove_campaign_jobs(self, campaign_id: int) -> None:
        prefix = job_ids(campaign_id)[3]
        for job in self.scheduler.get_jobs():
            if job.id.startswith(prefix):
                self._remove(job.id)

    def _remove(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            pass

    def _window_open(self, campaign_id: int) -> None:
        self.sync_campaign(campaign_id)

    def _window_close(self, campaign_id: int) -> None:
        self._remove(job_ids(campaign_id)[0])

    def _timed_event(self, campaign_id: int, event: CampaignEvent) -> None:
        try:
            self.driver.control(campaign_id, event, actor="scheduler", actor_type="system")
        except OutboundError as exc:
            log.info("timed campaign event not applied", extra={"campaign": campaign_id, "event": event.value,
                                                                 "why": exc.message})

    # -- daily jobs of other parts ------------------------------------------------------

    def _daily_jobs(self) -> None:
        common = {"trigger": "cron", "replace_existing": True, "coalesce": True, "misfire_grace_time": DAILY_GRACE,
                  "max_instances": 1}
        days = self.extra.get("CTI_RECORDINGS_RETENTION_DAYS", "").strip()
        if days:
            if not days.isdigit() or int(days) < 1:
                log.error("CTI_RECORDINGS_RETENTION_DAYS must be a whole number of days; retention not scheduled",
                          extra={"value": days})
            else:
                self.scheduler.add_job(delete_older_than, id=RETENTION_JOB_ID, hour=3, minute=15,
                                       args=[self.db, int(days)], **common)
        register_report_jobs(self.scheduler, extra=self.extra, database_url=self.database_url, tz=self.site_zone,
                             data_dir=self.data_dir, executor="processes")

