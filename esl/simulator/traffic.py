"""Load against a :class:`~esl.simulator.switch.FakeSwitch`: inbound callers arriving
at random and a population of agent phones (plans in :mod:`esl.simulator.arrivals`).

Arrival gaps are simulated seconds, so the switch's ``speed`` compresses them like
every other delay. Callers keep arriving across :meth:`FakeSwitch.restart` (the
people calling do not know the switch restarted).

Usage::

    generator = CallerGenerator(switch, rate_per_second=0.5, dids=["5550100"], seed=1)
    generator.start()
    ...
    generator.stop()
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import gevent

from esl.simulator.arrivals import Duration, plan_calls, plan_phones

if TYPE_CHECKING:
    from esl.simulator.switch import FakeSwitch

log = logging.getLogger(__name__)


class CallerGenerator:
    """Poisson arrivals of inbound callers.

    Args:
        switch: the switch the calls arrive at.
        rate_per_second: mean arrivals per simulated second.
        dids: the numbers called (uniformly).
        patience: how long a caller waits to be bridged before abandoning.
        talk_time: how long a caller talks once bridged.
        dtmf_script: what each caller keys in, in turn, at every digit prompt.
        seed: replays the same callers.

    Raises:
        ValueError: a rate that is not positive or no DIDs.
    """

    def __init__(
        self,
        switch: FakeSwitch,
        *,
        rate_per_second: float,
        dids: Sequence[str],
        patience: Duration = (20.0, 180.0),
        talk_time: Duration = (30.0, 240.0),
        dtmf_script: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        self.switch = switch
        self._plan = plan_calls(
            random.Random(seed), rate_per_second=rate_per_second, dids=dids, patience=patience,
            talk_time=talk_time, dtmf_script=dtmf_script,
        )
        self.placed: list[str] = []
        self._greenlet: gevent.Greenlet | None = None

    @property
    def running(self) -> bool:
        return self._greenlet is not None and not self._greenlet.dead

    def start(self) -> None:
        if not self.running:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None

    def _run(self) -> None:
        clock = self.switch.engine.core.clock
        for call in self._plan:
            gevent.sleep(clock.real_delay(call.gap))
            try:
                uuid = self.switch.place_inbound_call(
                    did=call.did, caller_number=call.caller_number, behaviour=call.behaviour,
                )
            except Exception:
                log.exception("inbound call not placed", extra={"did": call.did})
                continue
            self.placed.append(uuid)


def register_agent_phones(
    switch: FakeSwitch,
    extensions: Iterable[str],
    *,
    answer_after: Duration = (0.5, 3.0),
    no_answer_share: float = 0.0,
    busy_share: float = 0.0,
    seed: int | None = None,
) -> dict[str, str]:
    """Register a phone for each extension (adding the users to the directory):
    ``no_answer_share`` of them ring forever, ``busy_share`` are busy, the rest answer
    after ``answer_after``. Returns each extension's behaviour.

    Raises:
        ValueError: shares outside 0..1 or an extension that is not letters and digits.
    """
    phones = plan_phones(random.Random(seed), extensions, answer_after=answer_after,
                         no_answer_share=no_answer_share, busy_share=busy_share)
    for phone in phones:
        switch.register_phone(phone.extension, answer_after=phone.answer_after, behaviour=phone.behaviour)
    return {phone.extension: phone.behaviour for phone in phones}
