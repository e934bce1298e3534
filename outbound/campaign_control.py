"""Campaign state changes at run time: the campaign state machine applied with its
effects, for the pages, the REST API, the scheduler and the dialer itself.

:meth:`CampaignControl.control` runs one :mod:`outbound.campaign_states` transition on
the locked campaign row, checks first that a campaign about to start has what it
needs (a queue for modes with agents, a caller id), audits the change, then carries
out the effects: ``campaign.changed`` / ``campaign.finished`` on the bus, and
START_DIALING / STOP_DIALING as the dialer's runs (a running or paused campaign has
one; pausing or stopping takes back preview offers, and calls in progress finish).
The state listeners (the site scheduler) then re-derive their jobs. A state written
by another part (the REST API) is picked up from its ``campaign.changed`` (one without
``kind``) and applied the same way (:meth:`CampaignControl.sync`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import gevent

from cti.bus import DomainEvent
from outbound import campaign_sql
from outbound.campaign_config import load_config
from outbound.campaign_run import CampaignRun
from outbound.campaign_states import (
    CampaignEffect,
    CampaignEvent,
    CampaignState,
    campaign_transition,
)
from outbound.errors import CampaignNotReady, OutboundError, UnknownCampaign
from outbound.pacing import PacingState

if TYPE_CHECKING:
    from outbound.dialer import Dialer

log = logging.getLogger(__name__)

_STARTS = (CampaignEvent.START, CampaignEvent.RESUME, CampaignEvent.SCHEDULE, CampaignEvent.START_TIME)


class CampaignControl:
    """See the module docstring; one per dialer."""

    def __init__(self, dialer: Dialer) -> None:
        self.dialer = dialer
        self.listeners: list[Callable[[int], None]] = []

    def control(self, campaign_id: int, event: CampaignEvent, *, actor: str = "", actor_id: int | None = None,
                actor_type: str = "user") -> dict[str, Any]:
        """Apply a campaign event (start, pause, resume, stop ...); returns the campaign row.

        Raises:
            UnknownCampaign, CampaignNotReady, CampaignSettingsError,
            IllegalTransition: the event does not apply in the campaign's state (409).
        """
        with self.dialer.db.transaction() as cur:
            row = campaign_sql.campaign(cur, campaign_id, lock=True)
            if row is None:
                raise UnknownCampaign(f"campaign {campaign_id} does not exist")
            config = load_config(row, site_zone=self.dialer.site_zone)
            if event in _STARTS:
                problems = config.problems()
                if event is CampaignEvent.SCHEDULE and config.starts_at is None:
                    problems.append("set the start time")
                if event is CampaignEvent.START and not campaign_sql.unfinished_count(cur, campaign_id):
                    problems.append("add contacts to call (upload a list)")
                if problems:
                    raise CampaignNotReady("Before starting: " + "; ".join(problems) + ".", problems=problems)
            state, effects = campaign_transition(config.state, event)
            campaign_sql.set_state(cur, campaign_id, state)
            campaign_sql.audit(cur, actor_id=actor_id, actor_name=actor, actor_type=actor_type,
                               action=f"campaign.{event.value}", campaign_id=campaign_id,
                               details={"from": config.state.value, "to": state.value})
            row = {**row, "state": state.value}
        self._effects(row, config.state, event, effects)
        return row

    def _effects(self, row: dict[str, Any], previous: CampaignState, event: CampaignEvent,
                          effects: tuple[CampaignEffect, ...]) -> None:
        for effect in effects:
            if effect is CampaignEffect.PUBLISH_CHANGED:
                self._publish("campaign.changed", row, kind="state", previous=previous.value, event=event.value)
            elif effect is CampaignEffect.PUBLISH_FINISHED:
                self._publish("campaign.finished", row, reason=event.value)
        self.apply_state(row)

    def sync(self, campaign_id: int) -> None:
        """Line the dialer (and the scheduler) up with a campaign row changed elsewhere:
        a state the REST API wrote, a schedule edited on the campaign page."""
        with self.dialer.db.transaction() as cur:
            row = campaign_sql.campaign(cur, campaign_id)
        if row is None:
            run = self.dialer.runs.pop(campaign_id, None)
            if run is not None:
                self.dialer.previews.withdraw_all(run)
        else:
            self.apply_state(row)

    def on_campaign_event(self, event: DomainEvent) -> None:
        """Bus subscriber: a state change published by another writer (no ``kind``)."""
        campaign_id = event.data.get("campaign_id")
        if self.dialer.running and "kind" not in event.data and isinstance(campaign_id, int):
            gevent.spawn(self.sync, campaign_id)

    def apply_state(self, row: dict[str, Any]) -> None:
        """START_DIALING / STOP_DIALING: a running or paused campaign has a run (a paused
        one places no calls and offers no previews); any other state has none once its
        last call ended. Then the state listeners (the scheduler) re-derive their jobs."""
        campaign_id = int(row["id"])
        if row["state"] in (CampaignState.RUNNING.value, CampaignState.PAUSED.value):
            self.activate(row)
        run = self.dialer.runs.get(campaign_id)
        if run is not None and row["state"] != CampaignState.RUNNING.value:
            self.dialer.previews.withdraw_all(run)
            if row["state"] != CampaignState.PAUSED.value:
                run.config = replace(run.config, state=CampaignState(row["state"]))
                if not run.lines:
                    del self.dialer.runs[campaign_id]
        for listener in self.listeners:
            try:
                listener(campaign_id)
            except Exception:
                log.exception("campaign state listener failed", extra={"campaign": campaign_id})

    def _publish(self, event_type: str, row: dict[str, Any], **data: Any) -> None:
        self.dialer.bus.publish(DomainEvent(event_type, data={"campaign_id": int(row["id"]), "name": row["name"],
                                                 "state": row["state"], **data},
                                     queue=row.get("queue_name") or None))

    def activate(self, row: dict[str, Any]) -> None:
        try:
            config = load_config(row, site_zone=self.dialer.site_zone)
        except OutboundError as exc:
            log.error("campaign not started: invalid settings", extra={"campaign": row["id"], "why": exc.message})
            return
        run = self.dialer.runs.get(config.id)
        if run is None:
            self.dialer.runs[config.id] = CampaignRun(config, PacingState(config.rules.pacing_config()))
        else:
            run.config = config
