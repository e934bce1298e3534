"""Closing what the dialer can no longer follow, so no contact is left hanging.

After a middleware restart (or a lost event) an attempt may stay ``dialing`` with no
line in memory, and a connected call may never get its disposition (the agent's
wrap-up was lost with the process). :func:`sweep` runs now and then, through the
writer, for each running campaign: an open attempt that is not followed, whose call
is no longer live and that started longer ago than any call could ring, is closed
with what the store knows of its interaction (the core recorded it: answered,
abandoned, no answer ...); a contact still ``connected`` a while after its call
ended is done (the call reached an agent; no disposition came).
"""

from __future__ import annotations

from collections.abc import Set
from datetime import UTC, datetime, timedelta
from typing import Any

from outbound import campaign_sql
from outbound.campaign_config import CampaignConfig
from outbound.compliance import ring_timeout
from outbound.outcomes import LineResult, after_outcome, record_disposition, record_result
from outbound.pacing import DialMode
from outbound.retries import CallOutcome

#: A connected contact whose call ended this long ago without a disposition is done.
STALE_CONNECTED = timedelta(minutes=15)
#: Beyond the ring time: answered calls last, but an untracked attempt this old with no
#: live call is over.
ORPHAN_GRACE = timedelta(seconds=60)

_BY_INTERACTION = {
    "answered": CallOutcome.CONNECTED,
    "abandoned": CallOutcome.ABANDONED,
    "no_answer": CallOutcome.NO_ANSWER,
    "busy": CallOutcome.BUSY,
    "failed": CallOutcome.FAILED,
}


def sweep(cur: Any, config: CampaignConfig, tracked: Set[int], live: Set[str],
          now: datetime | None = None) -> int:
    """Close the campaign's orphans (see the module docstring); returns contacts made final."""
    now = now or datetime.now(UTC)
    finals = 0
    oldest = now - timedelta(seconds=ring_timeout(config.rules.ring_seconds, config.rules.profile)) - ORPHAN_GRACE
    for row in campaign_sql.open_attempts(cur, config.id):
        if row["id"] in tracked or str(row["interaction_id"] or "") in live or row["started_at"] > oldest:
            continue
        outcome = _orphan_outcome(row.get("interaction_outcome"), config)
        result = LineResult(
            campaign_id=config.id, contact_id=int(row["contact_id"]), attempt_id=int(row["id"]), outcome=outcome,
            ended_at=row["ended_at"] or now, answered_at=row["answered_at"], cause=row["hangup_cause"] or "",
            agent_id=row["agent_id"],
        )
        finals += int(record_result(cur, result, config))
        if outcome is CallOutcome.CONNECTED:
            finals += int(record_disposition(cur, config.id, result.attempt_id, result.contact_id,
                                             row["disposition"] or "", config, now))
    for row in campaign_sql.stale_connected(cur, config.id, now - STALE_CONNECTED):
        if row["attempt_id"] in tracked:
            continue
        contact = campaign_sql.contact(cur, int(row["contact_id"]), lock=True)
        if contact is not None:
            finals += int(after_outcome(cur, contact, CallOutcome.CONNECTED, config, now))
    return finals


def _orphan_outcome(interaction_outcome: str | None, config: CampaignConfig) -> CallOutcome:
    if interaction_outcome == "self_service":
        return CallOutcome.AGENTLESS_DONE if config.mode is DialMode.AGENTLESS else CallOutcome.ABANDONED
    return _BY_INTERACTION.get(interaction_outcome or "", CallOutcome.FAILED)
