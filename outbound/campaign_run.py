"""What the dialer keeps in memory for a campaign while it runs, and the pacing
snapshot built from it and from the live state.

Agents are the campaign queue's members who have the campaign's skills
(:func:`outbound.campaign_sql.campaign_agent_ids`, reloaded every
:data:`AGENTS_RELOAD_SECONDS`); each is seen through :func:`agent_view` from the core's
live state: available -> ready, ringing for any call or held for a preview ->
reserved, on a call -> talking, after-call work -> wrap-up (with the time left when
it is timed: those agents count as "about to be free"), not ready -> paused. Logged
out agents are not part of the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cti.agent_states import AgentState
from cti.agents import Agent
from outbound.abandon import AbandonRate, CallCounts
from outbound.campaign_config import CampaignConfig
from outbound.campaign_stats import FinishEstimator, LineCounts, OccupancyMeter
from outbound.line_states import NEEDS_AGENT, LinePhase
from outbound.lines import Line
from outbound.pacing import AgentPhase, AgentView, DialDecision, PacingSnapshot, PacingState

AGENTS_RELOAD_SECONDS = 30.0
COUNTS_RELOAD_SECONDS = 10.0
STATS_EVERY_SECONDS = 2.0
SWEEP_EVERY_SECONDS = 60.0

_TALKING = frozenset({AgentState.ON_CALL, AgentState.ON_HOLD, AgentState.IN_CONSULT})
_PLAYING = frozenset({LinePhase.AGENTLESS, LinePhase.ABANDON_MESSAGE, LinePhase.MACHINE_MESSAGE,
                      LinePhase.MACHINE_HANGUP})


@dataclass(frozen=True)
class PreviewOffer:
    """A contact shown to an agent who may dial it (preview mode)."""

    contact_id: int
    agent_id: int
    campaign_id: int
    offered_at: float
    contact: Mapping[str, object]


@dataclass(eq=False)
class CampaignRun:
    """A running (or pausing) campaign's live bookkeeping."""

    config: CampaignConfig
    pacing: PacingState
    lines: dict[str, Line] = field(default_factory=dict)
    agent_ids: tuple[int, ...] = ()
    agents_loaded_at: float = 0.0
    counts_loaded_at: float = 0.0
    published_at: float = 0.0
    swept_at: float = 0.0
    last_tick: float | None = None
    decision: DialDecision | None = None
    today: CallCounts = field(default_factory=CallCounts)
    rate: AbandonRate = field(default_factory=lambda: AbandonRate(0.0, 0.0))
    contacts: dict[str, int] = field(default_factory=dict)
    contacts_left: int = 0
    occupancy: OccupancyMeter = field(default_factory=OccupancyMeter)
    finish: FinishEstimator = field(default_factory=FinishEstimator)
    previews: dict[int, PreviewOffer] = field(default_factory=dict)
    skipped: dict[int, set[int]] = field(default_factory=dict)   # agent -> contacts they skipped

    @property
    def id(self) -> int:
        return self.config.id

    def line_counts(self) -> LineCounts:
        phases = [line.phase for line in self.lines.values()]
        return LineCounts(
            ringing=sum(1 for p in phases if p in (LinePhase.RINGING, LinePhase.CALLING_AGENT)),
            waiting=sum(1 for p in phases if p in NEEDS_AGENT),
            connected=sum(1 for p in phases if p is LinePhase.CONNECTED),
            playing=sum(1 for p in phases if p in _PLAYING),
        )

    def snapshot(self, agents: Iterable[AgentView], now: float, contacts_ready: int) -> PacingSnapshot:
        """The pacing snapshot: paced lines only (a reserved line already holds its agent)."""
        paced = [line for line in self.lines.values() if not line.reserved]
        return PacingSnapshot(
            agents=tuple(agents),
            ringing=tuple(line.age(now) for line in paced if line.phase is LinePhase.RINGING),
            waiting=sum(1 for line in paced if line.phase in NEEDS_AGENT),
            playing=sum(1 for line in paced if line.phase in _PLAYING),
            contacts_ready=contacts_ready,
            abandoned=self.rate.abandoned,
            live=self.rate.live,
        )


def agent_view(agent: Agent, now: float, *, held: bool = False) -> AgentView | None:
    """How the pacing sees one agent (None: logged out). ``held``: a preview waits for them."""
    state = agent.state
    elapsed = max(0.0, now - agent.since) if agent.since else 0.0
    if state is AgentState.LOGGED_OUT:
        return None
    if state is AgentState.AVAILABLE:
        return AgentView(AgentPhase.RESERVED if held else AgentPhase.READY, elapsed)
    if state is AgentState.RESERVED:
        return AgentView(AgentPhase.RESERVED, elapsed)
    if state in _TALKING:
        return AgentView(AgentPhase.TALKING, elapsed)
    if state is AgentState.WRAP_UP:
        remaining = None if agent.wrapup_ends_at is None else max(0.0, agent.wrapup_ends_at - now)
        return AgentView(AgentPhase.WRAPUP, elapsed, remaining)
    return AgentView(AgentPhase.PAUSED, elapsed)
