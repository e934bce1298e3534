"""What a waiting or connected caller hears from the queue, as FreeSWITCH steps.

Numbers are spoken with ``say`` in the caller's language (the IVR's language node
sets it; ``say en ...`` and ``say zh ...`` both exist in FreeSWITCH's mod_say_*).
"""

from __future__ import annotations

from routing.ewt import Estimate
from routing.queues import QueueRules
from routing.steps import Execute, play_and_get_digits, playback, say

#: Channel variable receiving the caller's answer to a callback offer.
CALLBACK_VARIABLE = "cti_callback_choice"


def comfort_steps(rules: QueueRules) -> tuple[Execute, ...]:
    if rules.comfort is None:
        return ()
    return (playback(rules.comfort.prompt),)


def position_steps(rules: QueueRules, language: str, position: int, estimate: Estimate) -> tuple[Execute, ...]:
    """Position and/or EWT, as the queue asks; the EWT only when it is confident."""
    spec = rules.announce
    if spec is None:
        return ()
    steps: list[Execute] = []
    if spec.position:
        steps += [playback(spec.position_prompt), say(language, "NUMBER", "pronounced", str(position))]
    if spec.ewt and estimate.confident:
        steps += [
            playback(spec.ewt_prompt),
            say(language, "NUMBER", "pronounced", str(estimate.minutes)),
            playback(spec.minutes_prompt),
        ]
    return tuple(steps)


def callback_offer_step(rules: QueueRules) -> Execute | None:
    """"Press 1 to keep your place and be called back": one key, 5 s to answer."""
    if rules.callback is None:
        return None
    return play_and_get_digits(
        files=[rules.callback.prompt],
        min_digits=1,
        max_digits=1,
        timeout_ms=5000,
        variable=CALLBACK_VARIABLE,
        digit_timeout_ms=3000,
    )


def agent_steps(rules: QueueRules, language: str, agent_code: str) -> tuple[Execute, ...]:
    """"Agent 1 0 0 1 will take your call", digit by digit, if the queue says so."""
    if rules.announce_agent_prompt is None or not agent_code:
        return ()
    method = "NUMBER" if agent_code.isdigit() else "NAME_SPELLED"
    return (playback(rules.announce_agent_prompt), say(language, method, "iterated", agent_code))
