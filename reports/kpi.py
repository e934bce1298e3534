"""Every KPI the reports show, defined once, with its formula.

Queue KPIs are computed in three steps so that the raw path, the chunked path and the
pre-aggregated table all give the same numbers:

1. :func:`visit_facts` turns queue visits (one row per queue an interaction entered,
   table ``queue_visits``) into per-visit 0/1 flags and durations;
2. :func:`queue_measures` sums them per group (a measure is additive: partial sums
   from chunks or 15-minute slots combine with :func:`combine_measures`);
3. :func:`queue_kpis` turns measures into rates and averages.

Counting rules
--------------
- A call transferred from one queue to another counts once in each queue: the unit is
  the queue visit, not the interaction.
- A visit belongs to the interval in which it entered the queue (it was *offered*),
  even if it was answered, abandoned or ended in a later interval.
- ``wait`` = answered_at - entered_at for answered visits, left_at - entered_at for
  every other visit that left the queue; still-waiting visits have no wait.
- Short abandon: an abandoned visit with ``wait < S`` (S = ``short_abandon_s``,
  default 5 s). It is removed from both offered and abandoned. An abandon with wait
  exactly S is a real abandon.
- Service level threshold T per queue (default 20 s): answered with ``wait <= T`` is
  answered within T (exactly T counts as within); an abandon with ``wait <= T`` is an
  abandon within T, which the service level leaves out; ``wait > T`` is after T.

Formulas (``/`` gives NaN when the denominator is 0: the KPI is undefined, not 0)
------------------------------------------------------------------------------------
- offered = visits - short_abandoned
- answered = visits with an answer time; abandoned = outcome ``abandoned`` - short
- service_level = answered_within_T / (answered + abandoned_after_T)
- abandon_rate = abandoned / offered
- asa (average speed of answer) = sum(wait of answered) / answered
- avg_abandon_wait = sum(wait of abandoned) / abandoned
- aht (average handle time) = (talk + hold + wrap-up) / answered; talk, hold and
  wrap-up are the agent segments tagged with the visit's queue (consultations are not
  added: the customer is on hold meanwhile, so that time is already in hold)
- avg_talk = talk / answered, avg_hold = hold / answered, avg_wrapup = wrap-up / answered
- longest_wait = max(wait) over visits that left the queue
- transfer_rate = transferred / answered, where an answered visit is transferred when
  the call went on to another queue visit (``has_next``), or when it was the
  interaction's last visit and the interaction counted more transfers than
  ``queue_transfers`` (its answered visits that were followed by another visit): the
  agent sent it somewhere other than a queue
- repeat_rate_24h / repeat_rate_7d (a first-contact-resolution proxy) = inbound calls
  from a known number followed by another inbound call from the same number within
  24 h / 7 days (inclusive) / inbound calls from a known number

Agent KPIs (time in state is cut at interval edges, see :mod:`reports.intervals`)
---------------------------------------------------------------------------------
- handling time = time in on_call, on_hold, in_consult and wrap_up;
  available time = time in available and reserved (ringing)
- occupancy = handling / (handling + available)
- utilisation = handling / logged-in time (every state but logged_out)
- agent aht = (talk + hold + wrap-up) / handled calls (calls with a talk segment)
- answer_rate = offers answered / offers (rings)

Outbound: connect_rate = answered / attempts; abandon_rate = abandoned / answered
(a live answer with no agent free, the regulators' definition); aht = (talk + hold +
wrap-up) / (answered - abandoned).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Default service-level threshold T in seconds (per queue override in the rules).
DEFAULT_SL_THRESHOLD_S = 20.0
#: Default short-abandon threshold S in seconds.
DEFAULT_SHORT_ABANDON_S = 5.0

#: Columns :func:`visit_facts` needs: times are epoch seconds (NaN for none).
VISIT_COLUMNS = ("queue_name", "entered", "answered", "left", "outcome", "has_next", "transfers",
                 "queue_transfers", "talk_s", "hold_s", "wrapup_s")

#: Additive measures (summed when groups combine).
SUM_MEASURES = ("visits", "offered", "answered", "abandoned", "short_abandoned", "answered_within",
                "abandoned_after", "overflowed", "voicemail", "callback", "transferred",
                "answer_wait_s", "abandon_wait_s", "waited_s", "talk_s", "hold_s", "wrapup_s")
#: Measures combined by maximum.
MAX_MEASURES = ("longest_wait_s",)
MEASURES = SUM_MEASURES + MAX_MEASURES

#: The KPI columns :func:`queue_kpis` adds.
QUEUE_KPIS = ("service_level", "abandon_rate", "asa_s", "avg_abandon_wait_s", "aht_s", "avg_talk_s",
              "avg_hold_s", "avg_wrapup_s", "transfer_rate")

HANDLING_STATES = frozenset({"on_call", "on_hold", "in_consult", "wrap_up"})
AVAILABLE_STATES = frozenset({"available", "reserved"})
NOT_READY_STATES = frozenset({"not_ready"})
LOGGED_OUT_STATES = frozenset({"logged_out"})


@dataclass(frozen=True)
class KpiRules:
    """The thresholds the queue KPIs depend on.

    ``sl_threshold_by_queue`` holds each queue's T (the ``service_level`` queue setting);
    queues not in it use ``sl_threshold_s``.
    """

    sl_threshold_s: float = DEFAULT_SL_THRESHOLD_S
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S
    sl_threshold_by_queue: Mapping[str, float] = field(default_factory=dict)

    def threshold_for(self, queue: str) -> float:
        return float(self.sl_threshold_by_queue.get(queue, self.sl_threshold_s))


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator`` as floats, NaN where the denominator is 0."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return num.div(den.where(den != 0))


def visit_facts(visits: pd.DataFrame, rules: KpiRules) -> pd.DataFrame:
    """Per-visit flags and durations (the measures before summing), plus ``wait_s``.

    Args:
        visits: columns :data:`VISIT_COLUMNS` (extra columns are kept).
        rules: thresholds T (per queue) and S.
    Returns:
        ``visits`` with one column per name in :data:`MEASURES` and ``wait_s``.
    """
    answered = visits["answered"].notna().to_numpy()
    ended = visits["answered"].fillna(visits["left"])
    wait = (ended - visits["entered"]).clip(lower=0).to_numpy(dtype="float64")
    outcome = visits["outcome"].astype(str).to_numpy()
    queues = visits["queue_name"].astype(str)
    threshold = queues.map(rules.sl_threshold_by_queue).fillna(rules.sl_threshold_s).to_numpy(dtype="float64")
    abandoned_any = (outcome == "abandoned") & ~answered
    short = abandoned_any & (wait < rules.short_abandon_s)
    abandoned = abandoned_any & ~short
    transferred = answered & (visits["has_next"].to_numpy(dtype=bool)
                              | (visits["transfers"].to_numpy() > visits["queue_transfers"].to_numpy()))
    waited = np.nan_to_num(wait, nan=0.0)
    columns: dict[str, np.ndarray] = {
        "wait_s": wait,
        "visits": np.ones(len(visits), dtype="int64"),
        "offered": (~short).astype("int64"),
        "answered": answered.astype("int64"),
        "abandoned": abandoned.astype("int64"),
        "short_abandoned": short.astype("int64"),
        "answered_within": (answered & (wait <= threshold)).astype("int64"),
        "abandoned_after": (abandoned & (wait > threshold)).astype("int64"),
        "overflowed": ((outcome == "overflowed") & ~answered).astype("int64"),
        "voicemail": ((outcome == "voicemail") & ~answered).astype("int64"),
        "callback": ((outcome == "callback") & ~answered).astype("int64"),
        "transferred": transferred.astype("int64"),
        "answer_wait_s": np.where(answered, wait, 0.0),
        "abandon_wait_s": np.where(abandoned, wait, 0.0),
        "waited_s": waited,
        "longest_wait_s": waited,
    }
    for name in ("talk_s", "hold_s", "wrapup_s"):
        columns[name] = np.where(answered, visits[name].fillna(0.0).to_numpy(dtype="float64"), 0.0)
    kept = visits.drop(columns=[c for c in columns if c in visits.columns])
    return pd.concat([kept, pd.DataFrame(columns, index=visits.index)], axis=1)


def queue_measures(facts: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Measures per group of ``keys`` (a flat frame: keys as columns)."""
    if not keys:
        row = {**facts[list(SUM_MEASURES)].sum().to_dict(), **facts[list(MAX_MEASURES)].max().to_dict()}
        return pd.DataFrame([row], columns=list(MEASURES))
    grouped = facts.groupby(list(keys), sort=False, observed=True, dropna=False)
    result = grouped[list(SUM_MEASURES)].sum()
    for name in MAX_MEASURES:
        result[name] = grouped[name].max().to_numpy()    # same grouper, same group order
    return result.reset_index()


def combine_measures(parts: Iterable[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Combine partial measures (from chunks or slots) into one row per group."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return empty_measures(keys)
    merged = pd.concat(frames, ignore_index=True)
    return queue_measures(merged, keys)


def empty_measures(keys: Sequence[str]) -> pd.DataFrame:
    """A measures frame with no rows (keys then measures as columns)."""
    return pd.DataFrame({**{k: pd.Series(dtype="object") for k in keys},
                         **{m: pd.Series(dtype="float64") for m in MEASURES}})


def queue_kpis(measures: pd.DataFrame) -> pd.DataFrame:
    """``measures`` plus the KPI columns of :data:`QUEUE_KPIS` (formulas: module doc)."""
    m = measures
    out = measures.copy()
    handle = m["talk_s"] + m["hold_s"] + m["wrapup_s"]
    out["service_level"] = ratio(m["answered_within"], m["answered"] + m["abandoned_after"])
    out["abandon_rate"] = ratio(m["abandoned"], m["offered"])
    out["asa_s"] = ratio(m["answer_wait_s"], m["answered"])
    out["avg_abandon_wait_s"] = ratio(m["abandon_wait_s"], m["abandoned"])
    out["aht_s"] = ratio(handle, m["answered"])
    out["avg_talk_s"] = ratio(m["talk_s"], m["answered"])
    out["avg_hold_s"] = ratio(m["hold_s"], m["answered"])
    out["avg_wrapup_s"] = ratio(m["wrapup_s"], m["answered"])
    out["transfer_rate"] = ratio(m["transferred"], m["answered"])
    return out


def patience_s(measures: pd.DataFrame) -> float:
    """Mean caller patience for Erlang A: total time waited / number of abandons.

    This is the maximum-likelihood estimate of an exponential patience when answered
    callers are censored observations (their patience is only known to exceed their
    wait); short abandons count as abandons here. NaN when nobody abandoned.
    """
    abandons = float(measures["abandoned"].sum() + measures["short_abandoned"].sum())
    if abandons == 0:
        return float("nan")
    return float(measures["waited_s"].sum()) / abandons


def repeat_flags(gap_s: pd.Series) -> pd.DataFrame:
    """Whether a call was followed by another from the same number within 24 h / 7 d.

    ``gap_s`` is the time to the next inbound call from the same number (NaN when there
    is none). Returns integer columns ``repeat_24h`` and ``repeat_7d``.
    """
    gap = gap_s.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({"repeat_24h": (gap <= 86_400).astype("int64"),
                             "repeat_7d": (gap <= 7 * 86_400).astype("int64")}, index=gap_s.index)


def state_group(states: pd.Series) -> pd.Series:
    """The KPI group of each agent state: handling, available, not_ready, logged_out, other."""
    groups = {**{s: "handling" for s in HANDLING_STATES}, **{s: "available" for s in AVAILABLE_STATES},
              **{s: "not_ready" for s in NOT_READY_STATES}, **{s: "logged_out" for s in LOGGED_OUT_STATES}}
    return states.map(groups).fillna("other")


def agent_time_kpis(time_by_group: pd.DataFrame) -> pd.DataFrame:
    """Occupancy and utilisation from seconds per state group.

    ``time_by_group`` has columns handling_s, available_s, not_ready_s, other_s (any
    missing one counts as 0); adds logged_in_s, occupancy and utilisation.
    """
    out = time_by_group.copy()
    for column in ("handling_s", "available_s", "not_ready_s", "other_s"):
        if column not in out:
            out[column] = 0.0
    out["logged_in_s"] = out["handling_s"] + out["available_s"] + out["not_ready_s"] + out["other_s"]
    out["occupancy"] = ratio(out["handling_s"], out["handling_s"] + out["available_s"])
    out["utilisation"] = ratio(out["handling_s"], out["logged_in_s"])
    return out


def agent_call_kpis(calls: pd.DataFrame) -> pd.DataFrame:
    """Per-agent call averages from summed columns offers, offers_answered, handled,
    talk_s, hold_s, wrapup_s; adds answer_rate, aht_s, avg_talk_s, avg_hold_s, avg_wrapup_s."""
    out = calls.copy()
    out["answer_rate"] = ratio(out["offers_answered"], out["offers"])
    out["aht_s"] = ratio(out["talk_s"] + out["hold_s"] + out["wrapup_s"], out["handled"])
    out["avg_talk_s"] = ratio(out["talk_s"], out["handled"])
    out["avg_hold_s"] = ratio(out["hold_s"], out["handled"])
    out["avg_wrapup_s"] = ratio(out["wrapup_s"], out["handled"])
    return out


def outbound_kpis(summary: pd.DataFrame) -> pd.DataFrame:
    """Outbound rates from summed attempts, answered, abandoned, talk_s, hold_s, wrapup_s.

    handled = answered - abandoned (live answers an agent took); AHT and average talk
    are per handled call.
    """
    out = summary.copy()
    out["handled"] = out["answered"] - out["abandoned"]
    out["connect_rate"] = ratio(out["answered"], out["attempts"])
    out["abandon_rate"] = ratio(out["abandoned"], out["answered"])
    out["aht_s"] = ratio(out["talk_s"] + out["hold_s"] + out["wrapup_s"], out["handled"])
    out["avg_talk_s"] = ratio(out["talk_s"], out["handled"])
    return out
