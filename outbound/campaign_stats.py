"""Live figures of a running campaign, as ``campaign.changed`` carries them.

Pure: the dialer feeds the meters once per pacing tick and builds the figures with
:func:`live_figures`. Occupancy is measured, not estimated: the share of agent time
spent talking or in wrap-up, out of the time agents worked the campaign (logged in
and not paused), summed over the ticks since the campaign last started. The finish
estimate divides the contacts left by the rate at which contacts reached a final
state over the last hour of dialling; it is ``None`` until that rate is known.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outbound.abandon import AbandonRate, CallCounts
from outbound.pacing import AgentPhase, AgentView, DialDecision, Estimates

#: How far back the finish estimate looks, and the least data it needs.
FINISH_WINDOW = 3600.0
FINISH_MIN_SECONDS = 120.0
FINISH_MIN_FINALS = 3


class OccupancyMeter:
    """Agent-seconds busy (talking, wrap-up, reserved) over agent-seconds working."""

    def __init__(self) -> None:
        self.busy = 0.0
        self.working = 0.0

    def sample(self, agents: Sequence[AgentView], seconds: float) -> None:
        if seconds <= 0:
            return
        for agent in agents:
            if agent.phase is AgentPhase.PAUSED:
                continue
            self.working += seconds
            if agent.phase is not AgentPhase.READY:
                self.busy += seconds

    @property
    def occupancy(self) -> float | None:
        return self.busy / self.working if self.working > 0 else None


class FinishEstimator:
    """Contacts reaching a final state per second, over a sliding window."""

    def __init__(self, window: float = FINISH_WINDOW) -> None:
        self.window = window
        self._finals: deque[float] = deque()
        self._since: float | None = None

    def start(self, now: float) -> None:
        if self._since is None:
            self._since = now

    def final(self, now: float, count: int = 1) -> None:
        self._finals.extend([now] * count)

    def estimate(self, contacts_left: int, now: float) -> float | None:
        """Seconds until every contact is final, or None while the rate is unknown."""
        while self._finals and self._finals[0] < now - self.window:
            self._finals.popleft()
        if contacts_left <= 0:
            return 0.0
        if self._since is None:
            return None
        span = min(self.window, now - self._since)
        if span < FINISH_MIN_SECONDS or len(self._finals) < FINISH_MIN_FINALS:
            return None
        return contacts_left / (len(self._finals) / span)


@dataclass(frozen=True)
class LineCounts:
    ringing: int = 0
    waiting: int = 0
    connected: int = 0
    playing: int = 0


def agent_counts(agents: Sequence[AgentView]) -> dict[str, int]:
    counts = {phase.value: 0 for phase in AgentPhase}
    for agent in agents:
        counts[agent.phase.value] += 1
    return {"logged_in": len(agents), **counts}


def live_figures(
    *,
    today: CallCounts,
    rate: AbandonRate,
    limit: float,
    lines: LineCounts,
    agents: Sequence[AgentView],
    occupancy: float | None,
    contacts: Mapping[str, int],
    contacts_left: int,
    finish_in: float | None,
    decision: DialDecision | None,
    estimates: Estimates | None,
) -> dict[str, Any]:
    """The ``data`` of a ``campaign.changed`` stats event (JSON-ready)."""
    return {
        "dials": today.dials,
        "connects": today.connected,
        "abandons": today.abandoned,
        "abandon_rate": round(rate.rate, 5),
        "abandon_limit": limit,
        "machines": today.amd_machine + today.agent_machine,
        "no_answer": today.no_answer,
        "busy": today.busy,
        "failed": today.failed,
        "lines": {"ringing": lines.ringing, "waiting": lines.waiting, "connected": lines.connected,
                  "playing": lines.playing},
        "agents": agent_counts(agents),
        "occupancy": None if occupancy is None else round(occupancy, 4),
        "contacts": dict(contacts),
        "contacts_left": contacts_left,
        "finish_in_seconds": None if finish_in is None else round(finish_in),
        "pacing": None if decision is None else {
            "lines_to_dial": decision.lines_to_dial,
            "reason": decision.reason,
            "abandon_risk": round(decision.abandon_risk, 4),
        },
        "estimates": None if estimates is None else {
            "live_rate": round(estimates.live_rate, 4),
            "answer_delay": round(estimates.answer_delay, 2),
            "talk": round(estimates.talk, 1),
            "wrapup": round(estimates.wrapup, 1),
            "alpha": round(estimates.alpha, 5),
        },
    }
