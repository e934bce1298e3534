"""Progressive against predictive pacing in a simulated 8-hour shift.

A discrete-event simulation (no wall clock: a heap of timed events) that drives the
product's own :class:`outbound.pacing.PacingState` once per simulated second, the way
the dialer does. Both modes call the same contacts in the same order with the same
seed, so contact *i* has the same fate in both runs.

The simulated world (stated so results can be compared):

- agents are logged in and working for the whole shift (no pauses, no breaks);
- each dial ends as: live answer 25 %, answering machine 15 % (AMD hangs up after
  its 3 s analysis), busy 8 % (after 3 s), network failure 2 % (after 1 s), no answer
  50 % (rings until the 20 s ring timeout; compliance needs at least 15 s);
- time from dial to live answer: lognormal, mean 8 s, sd 4 s, cut at 19 s;
  answering machines answer after a lognormal 6 s (sd 3 s), then AMD takes 3 s;
- talk time: lognormal, mean 120 s, sd 60 s; wrap-up: a timed 10 s;
- a live-answered call with no agent free waits at most 2 s (the abandon-message
  deadline), then is abandoned: the message is played and the call counted.

Occupancy = (talk + wrap-up time) / logged-in time; abandon rate = abandoned /
live-answered (connected + abandoned), the default compliance definition.

Run: ``.venv/bin/python bench/dialer.py`` (``--agents 5 20 50 --hours 8 --seed 7``).
Results go to stdout and to this script's section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from outbound.pacing import (  # noqa: E402
    AgentPhase,
    AgentView,
    CallHandled,
    DialMode,
    DialResult,
    LiveCallFate,
    PacingConfig,
    PacingSnapshot,
    PacingState,
)

TARGET_AGENTS, TARGET_OCCUPANCY, ABANDON_LIMIT = 20, 0.85, 0.03
WRAPUP = 10.0
RING_TIMEOUT = 20.0
ABANDON_WAIT = 2.0
AMD_SECONDS = 3.0


def _lognormal(rng: random.Random, mean: float, sd: float) -> float:
    sigma2 = math.log(1.0 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


@dataclass(frozen=True)
class Fate:
    """What happens when contact *i* is dialled: the same in both runs."""

    live: bool
    ends_after: float      # seconds from dial to live answer, or to the end of the attempt
    talk: float


def fate_of(seed: int, index: int) -> Fate:
    rng = random.Random(seed * 1_000_003 + index)
    roll, talk = rng.random(), _lognormal(rng, 120.0, 60.0)
    if roll < 0.25:
        return Fate(True, min(_lognormal(rng, 8.0, 4.0), RING_TIMEOUT - 1.0), talk)
    if roll < 0.40:
        return Fate(False, min(_lognormal(rng, 6.0, 3.0), RING_TIMEOUT - 1.0) + AMD_SECONDS, talk)
    if roll < 0.48:
        return Fate(False, 3.0, talk)
    if roll < 0.50:
        return Fate(False, 1.0, talk)
    return Fate(False, RING_TIMEOUT, talk)


@dataclass
class Agent:
    phase: AgentPhase = AgentPhase.READY
    since: float = 0.0
    until: float = 0.0
    talked: float = 0.0


@dataclass
class Result:
    mode: str
    agents: int
    dials: int = 0
    connected: int = 0
    abandoned: int = 0
    busy_seconds: float = 0.0
    shift_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / self.shift_seconds

    @property
    def abandon_rate(self) -> float:
        live = self.connected + self.abandoned
        return self.abandoned / live if live else 0.0


@dataclass(order=True)
class Event:
    at: float
    seq: int
    kind: str = field(compare=False)
    ref: int = field(compare=False)


class Shift:
    """One simulated shift of one campaign in one pacing mode."""

    def __init__(self, mode: DialMode, agents: int, hours: float, seed: int) -> None:
        self.pacing = PacingState(PacingConfig(mode=mode))
        self.agents = [Agent() for _ in range(agents)]
        self.end = hours * 3600.0
        self.seed = seed
        self.now = 0.0
        self.events: list[Event] = []
        self.seq = 0
        self.next_contact = 0
        self.ringing: dict[int, float] = {}      # contact -> dial time
        self.waiting: dict[int, float] = {}      # contact -> answer time
        self.result = Result(mode.value, agents, shift_seconds=agents * self.end)

    def push(self, at: float, kind: str, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, Event(at, self.seq, kind, ref))

    def run(self) -> Result:
        started = time.process_time()
        self.push(0.0, "tick", 0)
        while self.events:
            event = heapq.heappop(self.events)
            if event.at > self.end:
                break
            self.now = event.at
            getattr(self, "on_" + event.kind)(event.ref)
        for agent in self.agents:      # time still being handled when the shift ends
            if agent.phase in (AgentPhase.TALKING, AgentPhase.WRAPUP):
                self.result.busy_seconds += self.end - agent.since
        self.result.cpu_seconds = time.process_time() - started
        return self.result

    def snapshot(self) -> PacingSnapshot:
        views = []
        for a in self.agents:
            remaining = a.until - self.now if a.phase is AgentPhase.WRAPUP else None
            views.append(AgentView(a.phase, self.now - a.since, remaining))
        return PacingSnapshot(
            agents=tuple(views),
            ringing=tuple(self.now - t for t in self.ringing.values()),
            waiting=len(self.waiting),
            abandoned=self.result.abandoned,
            live=self.result.connected + self.result.abandoned,
        )

    def on_tick(self, _: int) -> None:
        decision = self.pacing.decide(self.snapshot(), self.now)
        for _ in range(decision.lines_to_dial):
            contact = self.next_contact
            self.next_contact += 1
            self.result.dials += 1
            self.ringing[contact] = self.now
            fate = fate_of(self.seed, contact)
            self.push(self.now + fate.ends_after, "dial_end", contact)
        self.push(self.now + 1.0, "tick", 0)

    def on_dial_end(self, contact: int) -> None:
        dialled = self.ringing.pop(contact)
        fate = fate_of(self.seed, contact)
        self.pacing.observe(DialResult(fate.live, self.now - dialled))
        if not fate.live:
            return
        agent = self.free_agent()
        if agent is None:
            self.waiting[contact] = self.now
            self.push(self.now + ABANDON_WAIT, "deadline", contact)
        else:
            self.connect(agent, contact)

    def on_deadline(self, contact: int) -> None:
        if self.waiting.pop(contact, None) is not None:
            self.result.abandoned += 1
            self.pacing.observe(LiveCallFate(abandoned=True))

    def on_talk_end(self, index: int) -> None:
        agent = self.agents[index]
        agent.talked = self.now - agent.since
        self.result.busy_seconds += agent.talked
        agent.phase, agent.since, agent.until = AgentPhase.WRAPUP, self.now, self.now + WRAPUP
        self.push(agent.until, "wrapup_end", index)

    def on_wrapup_end(self, index: int) -> None:
        agent = self.agents[index]
        self.result.busy_seconds += self.now - agent.since
        self.pacing.observe(CallHandled(agent.talked, WRAPUP))
        agent.phase, agent.since = AgentPhase.READY, self.now
        if self.waiting:
            contact = min(self.waiting, key=self.waiting.__getitem__)
            del self.waiting[contact]
            self.connect(index, contact)

    def free_agent(self) -> int | None:
        ready = [i for i, a in enumerate(self.agents) if a.phase is AgentPhase.READY]
        return min(ready, key=lambda i: self.agents[i].since) if ready else None

    def connect(self, index: int, contact: int) -> None:
        agent = self.agents[index]
        agent.phase, agent.since = AgentPhase.TALKING, self.now
        self.result.connected += 1
        self.pacing.observe(LiveCallFate(abandoned=False))
        self.push(self.now + fate_of(self.seed, contact).talk, "talk_end", index)


def compare(agents: int, hours: float, seed: int) -> tuple[Result, Result]:
    progressive = Shift(DialMode.PROGRESSIVE, agents, hours, seed).run()
    predictive = Shift(DialMode.PREDICTIVE, agents, hours, seed).run()
    return progressive, predictive


def table(rows: list[tuple[Result, Result]], hours: float, seed: int) -> str:
    lines = [
        f"Simulated shift of {hours:g} h, seed {seed}; the same contacts in both modes.",
        "",
        "| agents | mode | dials | connected | abandoned | abandon rate | occupancy | occupancy ratio |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for progressive, predictive in rows:
        ratio = predictive.occupancy / progressive.occupancy
        for r, shown in ((progressive, "1.00 (baseline)"), (predictive, f"{ratio:.2f}")):
            lines.append(
                f"| {r.agents} | {r.mode} | {r.dials} | {r.connected} | {r.abandoned} | "
                f"{r.abandon_rate:.2%} | {r.occupancy:.1%} | {shown} |"
            )
    for _, predictive in rows:
        if predictive.agents == TARGET_AGENTS:
            met = predictive.occupancy >= TARGET_OCCUPANCY and predictive.abandon_rate <= ABANDON_LIMIT
            lines += ["", f"Target ({TARGET_AGENTS} agents: predictive occupancy >= {TARGET_OCCUPANCY:.0%} with "
                          f"abandon rate <= {ABANDON_LIMIT:.0%}): **{'MET' if met else 'MISSED'}**."]
    cpu = sum(r.cpu_seconds for pair in rows for r in pair)
    lines += ["", f"Simulation CPU time for all runs: {cpu:.1f} s; {harness.machine()}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[5, 20, 50])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    rows = [compare(n, args.hours, args.seed) for n in args.agents]
    body = table(rows, args.hours, args.seed)
    print(body)
    if not args.no_write:
        harness.write_section("dialer", "Outbound dialer pacing (bench/dialer.py)", body + "\n\n" + _model_note())


def _model_note() -> str:
    doc = (__doc__ or "").split("The simulated world", 1)[1].split("Run:", 1)[0]
    return "Model (from the script's docstring): the simulated world" + doc.rstrip()


if __name__ == "__main__":
    main()
