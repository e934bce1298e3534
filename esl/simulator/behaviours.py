"""What simulated people do during a call, scheduled on simulated time.

An inbound caller abandons after its patience, keys in DTMF on a timeline after the
answer (RFC 2833 ``DTMF`` events as in capture d: ``DTMF-Source: RTP``,
``DTMF-Duration: 2240``), answers digit prompts from its script, and hangs up after
talking; a dialled customer talks and hangs up, and an answering machine plays a
greeting whose beep ``mod_avmd`` detects.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from esl.simulator import bridge as bridges
from esl.simulator.core import Core, Leg
from esl.simulator.endpoints import CallerBehaviour, CustomerOutcome

DTMF_DIGITS = frozenset(string.digits + "*#ABCDabcd")
DTMF_GAP = 0.2


def press(core: Core, leg: Leg, digits: str, gap: float = DTMF_GAP) -> None:
    """The far end of ``leg`` keys in ``digits`` (blocking; run it in a greenlet)."""
    for digit in digits:
        if leg.hanging_up or leg.destroyed:
            return
        if digit not in DTMF_DIGITS:
            continue
        core.fire("DTMF", leg, calling="DTMF", after=(
            ("DTMF-Digit", digit.upper()), ("DTMF-Duration", "2240"), ("DTMF-Source", "RTP"),
        ))
        leg.dtmf.append(digit.upper())
        leg.poke()
        core.sleep(gap)


def _remote_hangup(core: Core, leg: Leg) -> None:
    if not leg.hanging_up and not leg.destroyed:
        bridges.hangup(core, leg, "NORMAL_CLEARING", remote=True)


class InboundCaller:
    """The caller on an inbound leg, following its :class:`CallerBehaviour`."""

    def __init__(
        self,
        behaviour: CallerBehaviour,
        dtmf: Sequence[tuple[float, str]] = (),
        hangup_after: float | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.dtmf = tuple(dtmf)
        self.hangup_after = hangup_after
        self._prompts = 0

    def start(self, core: Core, leg: Leg) -> None:
        if self.behaviour.patience is not None:
            core.later(self.behaviour.patience, self._abandon, core, leg)
        core.spawn(self._after_answer, core, leg)

    def _abandon(self, core: Core, leg: Leg) -> None:
        if not leg.bridged_to:
            _remote_hangup(core, leg)

    def _after_answer(self, core: Core, leg: Leg) -> None:
        leg.answered_event.wait()
        if leg.hanging_up or leg.destroyed:
            return
        for delay, digits in self.dtmf:
            core.later(delay, press, core, leg, digits)
        if self.hangup_after is not None:
            core.later(self.hangup_after, _remote_hangup, core, leg)

    def on_prompt(self, core: Core, leg: Leg) -> None:
        """A digit prompt started: key in the next scripted answer."""
        script = self.behaviour.prompt_digits
        if self._prompts < len(script):
            digits = script[self._prompts]
            self._prompts += 1
            if digits:
                core.later(self.behaviour.think_time, press, core, leg, digits)

    def on_bridged(self, core: Core, leg: Leg) -> None:
        if self.behaviour.talk_time is not None:
            partner = leg.bridged_to
            core.later(self.behaviour.talk_time, self._end_talk, core, leg, partner)

    def _end_talk(self, core: Core, leg: Leg, partner: str) -> None:
        if leg.bridged_to == partner:
            _remote_hangup(core, leg)


class Customer:
    """A dialled person or answering machine (outbound campaigns)."""

    def __init__(self, outcome: CustomerOutcome) -> None:
        self.outcome = outcome
        self.answered_at = 0.0

    def on_answered(self, core: Core, leg: Leg) -> None:
        self.answered_at = core.clock.elapsed()
        core.later(self.outcome.talk_time, _remote_hangup, core, leg)

    def beep_in(self, core: Core) -> float | None:
        """Seconds until the machine's beep, or None for a human."""
        if self.outcome.kind != "machine":
            return None
        return max(0.0, self.answered_at + self.outcome.greeting_time - core.clock.elapsed())
