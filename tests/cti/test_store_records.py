"""The pure half of the store writer: which events are kept, the rows a batch becomes,
and the revision order that keeps an older record from overwriting a newer one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti import store_records as sr
from cti.bus import EVENT_TYPES, DomainEvent
from tests.cti.test_store_support import Calls
from tests.purity import loaded_by

AGENT = 7


def records(events: list[DomainEvent]) -> list[dict]:
    return [sr.journal_record(e, 0.0) for e in events if sr.is_stored(e.type)]


def answered_call() -> tuple[Calls, str]:
    calls = Calls(AGENT)
    iid = calls.answered(AGENT, talk=30.0)
    calls.wrapup_done(AGENT, "resolved", "called back")
    return calls, iid


@pytest.mark.parametrize(("event_type", "stored"), [
    ("call.created", True), ("call.ended", True), ("call.wrapup_ended", True), ("call.ivr_step", True),
    ("agent.state_changed", True), ("queue.changed", False), ("campaign.changed", False),
    ("system.resynced", False), ("voicemail.created", False), ("campaign.finished", False),
])
def test_which_events_are_kept(event_type: str, stored: bool) -> None:
    assert sr.is_stored(event_type) is stored


def test_every_call_event_type_is_kept() -> None:
    assert all(sr.is_stored(t) for t in EVENT_TYPES if t.startswith("call."))


def test_a_call_becomes_its_rows() -> None:
    calls, iid = answered_call()
    plan = sr.plan(records(calls.events))

    call_events = [e for e in calls.events if e.type.startswith("call.")]
    assert [row[3] for row in plan.timeline] == [e.type for e in call_events]
    assert [row[0] for row in plan.timeline] == [e.id for e in call_events]
    assert [row[0] for row in plan.agent_history] == [e.id for e in calls.of("agent.state_changed")]
    assert [(r[3], r[7]) for r in plan.agent_history] == [
        ("available", "logged_out"), ("reserved", "available"), ("on_call", "reserved"),
        ("wrap_up", "on_call"), ("available", "wrap_up"),
    ]
    assert [row[0] for row in plan.created] == [iid]
    assert plan.partial == []
    # the final wrap-up record replaces the call.ended one (it knows more)
    rev, record = plan.full[iid]
    assert rev // 10**16 == sr.Stage.FINAL
    assert (record["disposition"], record["notes"], record["outcome"]) == ("resolved", "called back", "answered")


def test_the_timeline_row_of_call_ended_keeps_only_scalars() -> None:
    calls, iid = answered_call()
    plan = sr.plan(records(calls.events))
    ended = next(row for row in plan.timeline if row[3] == "call.ended")
    assert not sr.RECORD_LISTS & set(ended[5])
    assert ended[5]["outcome"] == "answered" and ended[5]["hangup_by"] == "customer"
    wrapup = next(row for row in plan.timeline if row[3] == "call.wrapup_ended")
    assert "record" not in wrapup[5] and wrapup[5]["disposition"] == "resolved"


def test_child_rows_follow_the_record() -> None:
    calls, iid = answered_call()
    _, record = sr.plan(records(calls.events)).full[iid]
    legs = sr.leg_rows(iid, record)
    assert sorted(r[3] for r in legs) == ["agent", "customer"]
    assert [(r[2], r[6]) for r in sr.offer_rows(iid, record)] == [(AGENT, "answered")]
    assert sorted(r[2] for r in sr.segment_rows(iid, record)) == ["talk", "wrapup"]
    assert [(r[1], r[2], r[7], r[8]) for r in sr.visit_rows(iid, record)] == [(1, "support", "answered", AGENT)]
    assert sr.recording_rows(iid, record) == []
    row = sr.interaction_row(iid, 5, record, None)
    assert len(row) == 33 and row[0] == iid and row[-1] == 5
    assert row[7] == ["+15550100"]  # the customer's number spellings


def test_a_disposition_added_while_others_wrap_up_is_a_partial_update() -> None:
    event = DomainEvent(type="call.wrapup_ended", interaction_id="i1", agent_id=3, at=100.0,
                        data={"agent_id": 3, "disposition": "sale", "notes": "", "final": False})
    plan = sr.plan(records([event]))
    assert plan.partial == [("i1", "sale", "", sr.revision(sr.Stage.PARTIAL, 100.0))]
    assert plan.full == {}
    silent = DomainEvent(type="call.wrapup_ended", interaction_id="i1", agent_id=3, at=100.0,
                         data={"agent_id": 3, "disposition": "", "notes": "", "final": False})
    assert sr.plan(records([silent])).partial == []


def test_events_without_an_interaction_are_not_timeline_rows() -> None:
    event = DomainEvent(type="call.held", interaction_id=None, at=1.0)
    assert sr.plan(records([event])).empty


@pytest.mark.parametrize(("direction", "caller", "callee", "expected"), [
    ("inbound", "+15550100", "8000", ["+15550100"]),
    ("inbound", "", "8000", []),
    ("outbound", "0000000000", "+447911123456", ["+447911123456"]),
    ("internal", "1001", "1002", []),
])
def test_the_customer_number_depends_on_the_direction(direction: str, caller: str, callee: str,
                                                      expected: list[str]) -> None:
    assert sr.customer_numbers(direction, caller, callee, None) == expected


def test_the_customer_number_is_also_tried_as_dialled() -> None:
    assert sr.customer_numbers("inbound", "020 7946 0018", "", "GB") == ["+442079460018", "020 7946 0018"]


times = st.floats(min_value=1.0e9, max_value=4.0e9, allow_nan=False)
skews = st.floats(min_value=-3600.0, max_value=3600.0, allow_nan=False)


@given(at=times, skew=skews, later=st.sampled_from(list(sr.Stage)), earlier=st.sampled_from(list(sr.Stage)))
def test_a_later_stage_always_wins_whatever_the_clocks(at: float, skew: float, later: sr.Stage,
                                                      earlier: sr.Stage) -> None:
    """Commands use the middleware's clock and channel events the switch's: a stage
    reached later must outrank an earlier one even when its timestamp is older."""
    if later > earlier:
        assert sr.revision(later, at + skew) > sr.revision(earlier, at)


@given(a=times, b=times, stage=st.sampled_from(list(sr.Stage)))
def test_within_a_stage_time_decides(a: float, b: float, stage: sr.Stage) -> None:
    if round(a * 1e6) < round(b * 1e6):
        assert sr.revision(stage, a) < sr.revision(stage, b)


def test_revisions_fit_a_postgres_bigint() -> None:
    assert sr.revision(sr.Stage.FINAL, 4.0e9) < 2**63 - 1


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 100)), max_size=30))
def test_unique_by_keeps_the_last_row_of_each_key(rows: list[tuple[int, int]]) -> None:
    kept = sr.unique_by(rows, slice(0, 1))
    assert sorted(k for k, _ in kept) == sorted({k for k, _ in rows})
    for key, value in kept:
        assert value == [v for k, v in rows if k == key][-1]


def test_store_records_is_pure() -> None:
    assert loaded_by(["cti.store_records"], ("gevent", "psycopg2", "socket", "flask")) == []
