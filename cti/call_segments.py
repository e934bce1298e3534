"""Talk, hold and consult segments derived from what is true about a call right now.

Instead of every handler opening and closing periods by hand, :func:`sync` compares
the segments that should be open (from the serving leg, bridged, held, consult) with
the ones that are, and closes or opens the difference at the fact's time. One agent
serves the customer at a time, so an agent's talk and hold never overlap and the sum
of talk and hold of a call cannot exceed the time from answer to end. Wrap-up segments
follow the agent state and are handled in :mod:`cti.calls`.

A period that would last zero seconds is dropped (and one re-opened at the instant it
closed is resumed), so (agent, kind, start) stays unique as the store's key expects.
"""

from __future__ import annotations

from dataclasses import replace

from cti.call_states import TALKING
from cti.interaction import Interaction, Segment

_SYNCED = frozenset({"talk", "hold", "consult"})


def wanted(ix: Interaction) -> set[tuple[int, str]]:
    """The (agent, kind) periods that should be open for ``ix`` as it is now."""
    if ix.state not in TALKING or ix.serving_leg is None:
        return set()
    serving = ix.legs.get(ix.serving_leg)
    customer = ix.customer
    if serving is None or serving.agent_id is None or not serving.up or customer is None or not customer.up:
        return set()
    agent = serving.agent_id
    periods = {(agent, "talk" if ix.bridged and not ix.held else "hold")}
    if ix.consult_leg is not None:
        periods.add((agent, "consult"))
    return periods


def sync(ix: Interaction, at: float) -> Interaction:
    """Close the open periods that should not be open and open the missing ones at ``at``."""
    want = wanted(ix)
    segments = list(ix.segments)
    have: set[tuple[int, str]] = set()
    changed = False
    for index in range(len(segments) - 1, -1, -1):
        seg = segments[index]
        if seg.ended_at is not None or seg.kind not in _SYNCED:
            continue
        key = (seg.agent_id, seg.kind)
        if key in want:
            have.add(key)
        elif seg.started_at >= at:
            del segments[index]
            changed = True
        else:
            segments[index] = replace(seg, ended_at=at)
            changed = True
    for agent, kind in sorted(want - have):
        _open(segments, agent, kind, at, ix.queue)
        changed = True
    return replace(ix, segments=tuple(segments)) if changed else ix


def _open(segments: list[Segment], agent: int, kind: str, at: float, queue: str) -> None:
    for index in range(len(segments) - 1, -1, -1):
        seg = segments[index]
        if seg.agent_id == agent and seg.kind == kind:
            if seg.ended_at == at:
                segments[index] = replace(seg, ended_at=None)
                return
            break
    segments.append(Segment(agent_id=agent, kind=kind, started_at=at, queue=queue))

