"""Preview mode: every ready agent of a preview campaign is shown the next contact,
reads it, and dials it (or skips it) with one click.

An offer is a promise kept in memory, not a contact state: the contact stays ``new``
or ``scheduled_retry`` until the agent dials, so a middleware restart or a withdrawn
offer loses nothing. While an agent holds an offer the pacing counts them reserved
and no other agent is offered the same contact. The offer reaches the agent's pages
as ``campaign.changed`` with ``kind: "preview"`` and the agent's id (the Socket.IO push
sends it to that agent only); ``kind: "preview_withdrawn"`` takes it back (the
campaign paused, the agent went not ready).

Dialling is agent-first: the agent's phone rings, and once answered it is bridged out
to the customer (:mod:`outbound.lines`), after the check before dialling ran again
with the agent reserved.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cti.agent_states import AgentState
from cti.bus import DomainEvent
from outbound import campaign_sql
from outbound import store as sql
from outbound.campaign_run import CampaignRun, PreviewOffer
from outbound.campaign_states import CampaignState
from outbound.errors import CampaignNotReady, UnknownCampaign
from outbound.lines import Line
from outbound.outcomes import refuse_dial
from outbound.phone import contact_zones

if TYPE_CHECKING:
    from outbound.dialer import Dialer

log = logging.getLogger(__name__)

_CONTACT_KEYS = ("id", "e164", "name", "timezone", "fields", "attempts", "last_outcome", "list_id")


class Previews:
    """The preview offers of every campaign (see the module docstring)."""

    def __init__(self, dialer: Dialer) -> None:
        self.dialer = dialer

    # -- offering (pacing tick) -------------------------------------------------------------

    def offer(self, run: CampaignRun, at: datetime) -> None:
        """Offer a contact to each ready agent of ``run`` who has none."""
        agents = [a for a in self.ready_agents(run) if a not in run.previews]
        if not agents:
            return
        offered = {o.contact_id for o in run.previews.values()}
        skipped = set().union(*run.skipped.values()) if run.skipped else set()
        config = run.config
        new_offers = []
        with self.dialer.db.transaction() as cur:
            rows = sql.claim_due_contacts(cur, config.id, at, len(agents) + len(offered) + len(skipped) + 5)
            for row in rows:
                if not agents:
                    break
                if row["id"] in offered:
                    continue
                agent_id = next((a for a in agents if row["id"] not in run.skipped.get(a, ())), None)
                if agent_id is None:
                    continue
                zones = contact_zones(row["e164"], row.get("timezone"), config.rules.default_zone)
                verdict = sql.check_before_dial(cur, campaign_id=config.id, contact_id=row["id"], e164=row["e164"],
                                                zones=zones, rules=config.rules.dial_rules(), now=at,
                                                agent_reserved=True)
                if not verdict.allowed:
                    refuse_dial(cur, {**row, "campaign_id": config.id}, verdict)
                    continue
                agents.remove(agent_id)
                new_offers.append(PreviewOffer(int(row["id"]), agent_id, config.id, time.time(),
                                               {k: row.get(k) for k in _CONTACT_KEYS}))
        for offer in new_offers:
            run.previews[offer.agent_id] = offer
            self._push(run, offer.agent_id, "preview", contact=_jsonable(offer.contact),
                       script=config.runtime.script)

    def ready_agents(self, run: CampaignRun) -> list[int]:
        core = self.dialer.core
        if core is None:
            return []
        ready = []
        for agent_id in run.agent_ids:
            try:
                if core.state.agent(agent_id).state is AgentState.AVAILABLE:
                    ready.append(agent_id)
            except KeyError:
                continue
        return ready

    # -- the agent's choices (web request greenlets) -------------------------------------------

    def current(self, agent_id: int) -> tuple[CampaignRun, PreviewOffer] | None:
        for run in self.dialer.runs.values():
            offer = run.previews.get(agent_id)
            if offer is not None:
                return run, offer
        return None

    def dial(self, agent_id: int, contact_id: int) -> Line:
        """The agent clicked dial: check again, record the attempt, ring the agent first.

        Raises:
            UnknownCampaign: no such offer for this agent (taken back meanwhile).
            CampaignNotReady: the campaign is not running, or the contact may not be called now.
        """
        found = self.current(agent_id)
        if found is None or found[1].contact_id != contact_id:
            raise UnknownCampaign("This contact is no longer offered to you; wait for the next one.")
        run, _offer = found
        node = self.dialer.node()
        if run.config.state is not CampaignState.RUNNING or node is None:
            raise CampaignNotReady("The campaign is not dialling now (paused, stopped or no switch connected).")
        del run.previews[agent_id]
        at = datetime.now(UTC)
        with self.dialer.db.transaction() as cur:
            contact = campaign_sql.contact(cur, contact_id, lock=True)
            if contact is None or contact["state"] not in ("new", "scheduled_retry"):
                raise UnknownCampaign("This contact was dialled or closed meanwhile; wait for the next one.")
            line = self.dialer.start_line(cur, run.config, contact, node, at, agent_id=agent_id)
        if not isinstance(line, Line):
            raise CampaignNotReady("This contact may not be called now (do-not-call list, calling hours or "
                                   "daily limit); it has been rescheduled.")
        self.dialer.place(run, line)
        return line

    def skip(self, agent_id: int, contact_id: int) -> None:
        """The agent passes: the contact stays as it was and is offered to someone else."""
        found = self.current(agent_id)
        if found is None or found[1].contact_id != contact_id:
            raise UnknownCampaign("This contact is no longer offered to you.")
        run, _offer = found
        del run.previews[agent_id]
        run.skipped.setdefault(agent_id, set()).add(contact_id)

    # -- taking offers back ------------------------------------------------------------------

    def withdraw_all(self, run: CampaignRun) -> None:
        for agent_id in list(run.previews):
            self._withdraw(run, agent_id)

    def agent_left(self, agent_id: int) -> None:
        """The agent is no longer available (event worker): their offer goes back."""
        found = self.current(agent_id)
        if found is not None:
            self._withdraw(found[0], agent_id)

    def _withdraw(self, run: CampaignRun, agent_id: int) -> None:
        offer = run.previews.pop(agent_id, None)
        if offer is not None:
            self._push(run, agent_id, "preview_withdrawn", contact_id=offer.contact_id)

    def _push(self, run: CampaignRun, agent_id: int, kind: str, **data: Any) -> None:
        config = run.config
        self.dialer.bus.publish(DomainEvent("campaign.changed", agent_id=agent_id, data={
            "campaign_id": config.id, "name": config.name, "display_name": config.display_name,
            "state": config.state.value, "kind": kind, **data,
        }))


def _jsonable(contact: dict[str, Any] | Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(contact).items()}
