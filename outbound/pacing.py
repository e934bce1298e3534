"""How many lines to dial now: predictive, progressive, preview and agentless pacing.

The dialer calls :meth:`PacingState.decide` about once a second with a
:class:`PacingSnapshot` (agents, calls ringing, calls waiting, today's abandon
figures) and places ``lines_to_dial`` calls; it reports what happens on the lines
through :meth:`PacingState.observe`. The engine is deterministic: the same
observations and snapshots give the same decisions (there is no randomness to seed;
``bench/dialer.py`` seeds its simulated customers instead).

Predictive algorithm
--------------------
It follows the probabilistic dialer of D. A. Samuelson, "Predictive dialing for
outbound telephone call centers", *Interfaces* 29(5):66-81, 1999: at each decision,
look a short horizon ``H`` ahead and estimate, from observed distributions rather
than fixed ratios, how many answered calls will need an agent and how many agents
will be free; place another call only while the chance that it would be answered
with no agent free stays under a threshold.

1. Estimates (:mod:`outbound.estimators`), learned online: ``p``, the share of dials
   answered by someone who needs an agent (live answer rate); the time from dial to
   live answer; the duration of dials that end without one; talk and wrap-up times.
2. Two horizons, each cautious in its own direction: a call counts as answered if
   it is answered by ``H``, the ``horizon_quantile`` (80 %) of the live-answer delay
   (a slow answer); an agent counts as free only if free by ``G``, the
   ``agent_horizon_quantile`` (10 %) of that delay plus the ``answer_grace`` (2 s, the
   abandon-message deadline) -- a fast answer, which must find the agent already free.
3. Everything that can hold an agent is a Bernoulli variable:
   - a call already answered and waiting for an agent: probability 1;
   - a call ringing for ``a`` seconds: it is answered live within ``H`` with
     ``p (S_L(a) - S_L(a+H)) / (p S_L(a) + (1-p) S_N(a))`` (Bayes: a call still ringing
     after ``a`` seconds is less and less likely to be answered), ``S_L``/``S_N`` the
     survival functions of live-answer delay and of non-live dial duration;
   - an agent talking for ``e`` seconds: still busy at ``G`` with probability
     ``P(T > e + G - w | T > e)`` for talk time ``T`` and mean wrap-up ``w``;
   - an agent in a timed wrap-up ending in ``r`` seconds: busy iff ``r > G`` -- the
     agents "about to become free" count as free;
   - a reserved agent (preview, reserved redial): busy; a ready agent: free.
   With ``Z`` their sum (a Poisson-binomial variable, computed exactly by
   convolution truncated at ``K``) and ``K`` the agents working, a new call is
   abandoned when it is answered while ``Z >= K``. Calls are added one at a time,
   each adding a Bernoulli ``p (1 - S_L(H))``, while ``P(Z >= K) <= alpha``.
4. Governor. ``alpha`` is the per-call risk the engine accepts; the realised abandon
   rate is much lower than ``alpha`` because most calls are placed at far lower risk,
   so ``alpha`` is learned: every live-answered call nudges ``log alpha`` by
   ``gain * (target - abandoned)`` (an integral controller that holds the realised rate
   at ``target = limit * target_ratio``). On top, the period's measured rate (from the
   snapshot, smoothed with ``smoothing_calls`` pseudo-calls at the target rate) scales
   ``alpha`` down linearly from the target to the limit, and at or over the limit the
   engine stops overdialling altogether (progressive) until the rate falls -- the
   approach of VICIdial's adaptive modes (``AST_VDadapt.pl``: ADAPT_HARD_LIMIT drops the
   dial level to 1.0 once the day's drop percentage exceeds the limit).
5. Caps: never more than ``max_lines_per_agent`` (default 3) lines ringing or waiting
   per working agent (VICIdial's ``adaptive_maximum_level``), never more dials per
   second than ``max_dials_per_second``, never more than the contacts ready, never
   any call when no agent is working.

The other modes use the same snapshot: progressive dials one call per free agent
(ready agents minus calls ringing or waiting: no overdial, no abandons); preview
dials nothing by itself and offers a contact to each ready agent, who clicks dial;
agentless (a message, optionally a digit) keeps ``agentless_lines`` lines busy.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from outbound.estimators import DurationEstimate, RateEstimate


class DialMode(enum.Enum):
    PREDICTIVE = "predictive"
    PROGRESSIVE = "progressive"
    PREVIEW = "preview"
    AGENTLESS = "agentless"


class AgentPhase(enum.Enum):
    READY = "ready"          # logged in, idle, may take the next call
    RESERVED = "reserved"    # held for one call: a preview or a reserved redial
    TALKING = "talking"
    WRAPUP = "wrapup"
    PAUSED = "paused"        # logged in but not working the campaign


@dataclass(frozen=True)
class AgentView:
    """One logged-in agent of the campaign, as the pacing sees it."""

    phase: AgentPhase
    elapsed: float = 0.0                   # seconds in the current phase
    wrapup_remaining: float | None = None  # seconds until a timed wrap-up ends


@dataclass(frozen=True)
class PacingSnapshot:
    """The campaign at one instant; built by the dialer from its live state."""

    agents: tuple[AgentView, ...] = ()
    ringing: tuple[float, ...] = ()   # ages in seconds of calls dialled, not yet answered or ended
    waiting: int = 0                  # calls answered that wait for an agent now
    playing: int = 0                  # agentless: answered calls playing the message
    contacts_ready: int = 1_000_000   # contacts that may be dialled now
    abandoned: float = 0.0            # governing period: abandoned calls (see outbound.abandon)
    live: float = 0.0                 # governing period: live-answered calls (denominator)


@dataclass(frozen=True)
class PacingConfig:
    """Per-campaign pacing parameters (see the module docstring for their role)."""

    mode: DialMode = DialMode.PROGRESSIVE
    max_lines_per_agent: float = 3.0
    abandon_limit: float = 0.03
    target_ratio: float = 0.8
    max_dials_per_second: float = 10.0
    agentless_lines: int = 10
    horizon_quantile: float = 0.8
    agent_horizon_quantile: float = 0.1
    answer_grace: float = 2.0
    governor_gain: float = 0.1
    alpha_min: float = 0.001
    alpha_max: float = 0.6
    smoothing_calls: float = 100.0
    prior_live_rate: float = 0.2
    prior_answer_delay: float = 8.0
    prior_not_live_duration: float = 20.0
    prior_talk: float = 120.0
    prior_wrapup: float = 10.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.max_lines_per_agent <= 10.0:
            raise ValueError("max_lines_per_agent must be between 1 and 10")
        if not 0.0 < self.abandon_limit < 1.0:
            raise ValueError("abandon_limit must be a fraction between 0 and 1")
        if not 0.0 < self.target_ratio <= 1.0:
            raise ValueError("target_ratio must be in (0, 1]")
        if self.max_dials_per_second <= 0 or self.agentless_lines < 0:
            raise ValueError("max_dials_per_second must be positive and agentless_lines not negative")

    @property
    def abandon_target(self) -> float:
        return self.abandon_limit * self.target_ratio


@dataclass(frozen=True)
class DialDecision:
    """What to do now. ``reason`` is for logs and the supervisor page."""

    lines_to_dial: int
    reason: str
    previews_to_offer: int = 0
    abandon_risk: float = 0.0   # predictive: P(no agent free) for the last call placed


@dataclass(frozen=True)
class DialResult:
    """A dial stopped ringing: answered by someone who needs an agent, or not."""

    needs_agent: bool   # a person (or a machine passed to agents); AMD-handled machines are False
    seconds: float      # from dial to answer, or to the end of the attempt


@dataclass(frozen=True)
class LiveCallFate:
    """A live-answered call was connected to an agent or abandoned."""

    abandoned: bool


@dataclass(frozen=True)
class CallHandled:
    """An agent finished a call: talk time and wrap-up time."""

    talk_seconds: float
    wrapup_seconds: float


Observation = DialResult | LiveCallFate | CallHandled


@dataclass(frozen=True)
class Estimates:
    """The engine's current beliefs, for the supervisor page and the bench."""

    live_rate: float
    answer_delay: float
    talk: float
    wrapup: float
    alpha: float


class PacingState:
    """The learned state of one campaign's pacing; feed it with :meth:`observe`."""

    def __init__(self, config: PacingConfig | None = None) -> None:
        self.config = c = config or PacingConfig()
        self.live_rate = RateEstimate(c.prior_live_rate)
        self.answer_delay = DurationEstimate(c.prior_answer_delay)
        self.not_live = DurationEstimate(c.prior_not_live_duration)
        self.talk = DurationEstimate(c.prior_talk)
        self.wrapup = DurationEstimate(c.prior_wrapup)
        self._log_alpha = math.log(c.abandon_target)
        self._tokens = c.max_dials_per_second
        self._last_decision: float | None = None

    # -- learning ------------------------------------------------------------------

    def observe(self, outcome: Observation) -> None:
        """Update the estimates from one thing that happened on the lines."""
        if isinstance(outcome, DialResult):
            self.live_rate.observe(outcome.needs_agent)
            (self.answer_delay if outcome.needs_agent else self.not_live).observe(outcome.seconds)
        elif isinstance(outcome, LiveCallFate):
            error = self.config.abandon_target - (1.0 if outcome.abandoned else 0.0)
            low, high = math.log(self.config.alpha_min), math.log(self.config.alpha_max)
            self._log_alpha = min(high, max(low, self._log_alpha + self.config.governor_gain * error))
        else:
            self.talk.observe(outcome.talk_seconds)
            self.wrapup.observe(outcome.wrapup_seconds)

    def estimates(self) -> Estimates:
        return Estimates(
            live_rate=self.live_rate.value,
            answer_delay=self.answer_delay.mean,
            talk=self.talk.mean,
            wrapup=self.wrapup.mean,
            alpha=math.exp(self._log_alpha),
        )

    # -- deciding ------------------------------------------------------------------

    def decide(self, snapshot: PacingSnapshot, now: float) -> DialDecision:
        """Lines to dial now (``now`` in seconds, monotonic, for the dial-rate cap).

        The decision assumes the dialer places the lines it is told to: they are
        taken from the per-second dial budget.
        """
        decision = self._decide(snapshot)
        budget = self._refill(now)
        if decision.lines_to_dial > budget:
            decision = DialDecision(budget, f"{decision.reason}; dial rate limited to {budget}",
                                    decision.previews_to_offer, decision.abandon_risk)
        self._tokens -= decision.lines_to_dial
        return decision

    def _refill(self, now: float) -> int:
        rate = self.config.max_dials_per_second
        if self._last_decision is not None:
            self._tokens = min(rate, self._tokens + rate * max(0.0, now - self._last_decision))
        self._last_decision = now
        return max(0, math.floor(self._tokens))

    def _decide(self, snap: PacingSnapshot) -> DialDecision:
        mode = self.config.mode
        if mode is DialMode.AGENTLESS:
            free = self.config.agentless_lines - len(snap.ringing) - snap.playing
            return _limited(free, snap, "agentless: lines free")
        working = [a for a in snap.agents if a.phase is not AgentPhase.PAUSED]
        if not snap.agents:
            return DialDecision(0, "no agents logged in")
        if not working:
            return DialDecision(0, "all agents paused")
        ready = sum(1 for a in working if a.phase is AgentPhase.READY)
        if mode is DialMode.PREVIEW:
            return DialDecision(0, "preview: agents dial", previews_to_offer=ready)
        outstanding = len(snap.ringing) + snap.waiting
        room = math.floor(self.config.max_lines_per_agent * len(working)) - outstanding
        progressive = min(ready - outstanding, room)
        if mode is DialMode.PROGRESSIVE:
            return _limited(progressive, snap, "progressive: one call per free agent")
        measured = self._measured_rate(snap)
        if measured >= self.config.abandon_limit:
            return _limited(progressive, snap, f"abandon rate {measured:.1%} at the {self.config.abandon_limit:.1%} "
                                               "limit: no overdial until it falls")
        return self._predictive(snap, working, room, measured)

    def _measured_rate(self, snap: PacingSnapshot) -> float:
        n0 = self.config.smoothing_calls
        return (snap.abandoned + self.config.abandon_target * n0) / (snap.live + n0)

    def _alpha(self, measured: float) -> float:
        target, limit = self.config.abandon_target, self.config.abandon_limit
        scale = 1.0 if measured <= target else max(0.0, (limit - measured) / (limit - target))
        return math.exp(self._log_alpha) * scale

    def _predictive(self, snap: PacingSnapshot, working: list[AgentView], room: int, measured: float) -> DialDecision:
        if room <= 0:
            return DialDecision(0, f"predictive: {self.config.max_lines_per_agent:g} lines per agent reached")
        horizon = self.answer_delay.quantile(self.config.horizon_quantile)
        agent_horizon = self.answer_delay.quantile(self.config.agent_horizon_quantile) + self.config.answer_grace
        p = self.live_rate.value
        k = len(working)
        tail = _Tail(k)
        for _ in range(snap.waiting):
            tail.add(1.0)
        for age in snap.ringing:
            tail.add(self._answered_within(age, horizon, p))
        for agent in working:
            tail.add(self._busy_at(agent, agent_horizon))
        alpha = self._alpha(measured)
        per_call = p * (1.0 - self.answer_delay.survival(horizon))
        lines, limit, risk = 0, min(room, snap.contacts_ready), 0.0
        while lines < limit and tail.overflow <= alpha:
            risk = tail.overflow
            tail.add(per_call)
            lines += 1
        if lines == 0:
            return DialDecision(0, f"predictive: P(no agent free) {tail.overflow:.3f} > {alpha:.3f}",
                                abandon_risk=tail.overflow)
        return DialDecision(lines, f"predictive: P(no agent free) {risk:.3f} <= {alpha:.3f}", abandon_risk=risk)

    def _answered_within(self, age: float, horizon: float, p: float) -> float:
        still_unanswered = self.answer_delay.survival(age)
        alive = p * still_unanswered + (1.0 - p) * self.not_live.survival(age)
        if alive <= 0.0:
            return 0.0
        return p * (still_unanswered - self.answer_delay.survival(age + horizon)) / alive

    def _busy_at(self, agent: AgentView, horizon: float) -> float:
        if agent.phase is AgentPhase.READY:
            return 0.0
        if agent.phase is AgentPhase.RESERVED:
            return 1.0
        if agent.phase is AgentPhase.WRAPUP:
            if agent.wrapup_remaining is not None:
                return 1.0 if agent.wrapup_remaining > horizon else 0.0
            return self.wrapup.still_running(agent.elapsed, horizon)
        return self.talk.still_running(agent.elapsed, horizon - self.wrapup.mean)


def _limited(lines: int, snap: PacingSnapshot, reason: str) -> DialDecision:
    if lines <= 0:
        return DialDecision(0, f"{reason}: none")
    if lines > snap.contacts_ready:
        return DialDecision(snap.contacts_ready, f"{reason}: only {snap.contacts_ready} contacts ready")
    return DialDecision(lines, reason)


class _Tail:
    """Distribution of a sum of Bernoulli variables, exact below ``k``, lumped at ``k``.

    ``overflow`` is P(sum >= k). Zero-probability mass stays exactly zero, so a
    certainly-free agent gives an overflow of exactly 0.0 (no floating residue).
    """

    def __init__(self, k: int) -> None:
        self._below = [1.0] + [0.0] * (k - 1) if k > 0 else []
        self.overflow = 0.0 if k > 0 else 1.0

    def add(self, p: float) -> None:
        if p <= 0.0:
            return
        below = self._below
        q = 1.0 - p
        self.overflow += below[-1] * p if below else 0.0
        for i in range(len(below) - 1, 0, -1):
            below[i] = below[i] * q + below[i - 1] * p
        if below:
            below[0] *= q
