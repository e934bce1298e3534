"""Quality review: forms and the weighted total (pure), then forms, searches and scores
in a real PostgreSQL, scoped to what a supervisor may see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.quality import (
    NotFound,
    RecordingFilter,
    agent_of_user,
    list_forms,
    recording,
    save_form,
    save_score,
    scores,
    search_recordings,
)
from cti.quality_scoring import (
    Criterion,
    ItemScore,
    QualityError,
    parse_criteria,
    parse_items,
    total,
)
from cti.supervision_rules import Scope
from cti.users import User, upsert_user

FORM = [{"label": "Greeting", "weight": 1, "max_points": 5}, {"label": "Solution", "weight": 3, "max_points": 10}]


# --- pure -----------------------------------------------------------------------------------


def test_the_total_weighs_each_criterion_by_its_weight_whatever_its_scale() -> None:
    criteria = parse_criteria(FORM)
    items = parse_items(criteria, [{"position": 0, "points": 5}, {"position": 1, "points": 5, "comment": "ok"}])
    assert total(criteria, items) == Decimal("62.50")        # (1*1 + 3*0.5) / 4
    assert items[1] == ItemScore(1, 5, "ok")


@pytest.mark.parametrize(("raw", "message"), [
    ([], "at least one criterion"),
    ([{"label": "", "weight": 1}], "label: required"),
    ([{"label": "A", "weight": 0}], "weight: give a number from 0.01"),
    ([{"label": "A", "weight": "x"}], "weight"),
    ([{"label": "A", "weight": True}], "weight"),
    ([{"label": "A", "max_points": 0}], "max points: give a whole number from 1 to 100"),
    ([{"label": "A"}, {"label": "a"}], "repeated: A"),
])
def test_bad_forms_say_what_to_change(raw: list, message: str) -> None:
    with pytest.raises(QualityError, match=message):
        parse_criteria(raw)


@pytest.mark.parametrize(("items", "message"), [
    ([{"position": 0, "points": 5}], "missing: Solution"),
    ([{"position": 0, "points": 6}, {"position": 1, "points": 1}], "Greeting: points: give a whole number from 0 to 5"),
    ([{"position": 0, "points": 1}, {"position": 0, "points": 1}], "Greeting: scored twice"),
    ([{"position": 2, "points": 1}], "position"),
])
def test_bad_reviews_say_what_to_change(items: list, message: str) -> None:
    with pytest.raises(QualityError, match=message):
        parse_items(parse_criteria(FORM), items)


criteria_st = st.lists(st.tuples(st.integers(1, 500), st.integers(1, 10)), min_size=1, max_size=8)


@given(criteria_st, st.data())
def test_total_is_a_percentage_monotone_in_the_points(shape: list[tuple[int, int]], data: st.DataObject) -> None:
    criteria = [Criterion(f"c{i}", Decimal(w) / 10, m) for i, (w, m) in enumerate(shape)]
    points = [data.draw(st.integers(0, c.max_points)) for c in criteria]
    items = [ItemScore(i, p) for i, p in enumerate(points)]
    score = total(criteria, items)
    assert Decimal(0) <= score <= Decimal(100)
    assert total(criteria, [ItemScore(i, c.max_points) for i, c in enumerate(criteria)]) == Decimal(100)
    assert total(criteria, [ItemScore(i, 0) for i in range(len(criteria))]) == Decimal(0)
    better = [ItemScore(i, min(p + 1, c.max_points)) for i, (p, c) in enumerate(zip(points, criteria, strict=True))]
    assert total(criteria, better) >= score


# --- stored ---------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(db):
    """Two agents in two queues, a recording each (one short, one long), a reviewer."""
    with db.transaction() as cur:
        ids = {}
        for name in ("agent_q1", "agent_q2", "reviewer"):
            ids[name] = upsert_user(cur, name, roles=("supervisor",) if name == "reviewer" else ("agent",),
                                    password_hash="x", display_name=name.title())
        cur.execute("INSERT INTO queues (name) VALUES ('q1'), ('q2')")
        agents = {}
        for code, user in (("2001", "agent_q1"), ("2002", "agent_q2")):
            cur.execute("INSERT INTO agents (user_id, code) VALUES (%s, %s) RETURNING id", (ids[user], code))
            agents[code] = cur.fetchone()["id"]
        recs = {}
        for code, queue, seconds, caller, disposition in (("2001", "q1", 30, "+8613800000001", "resolved"),
                                                           ("2002", "q2", 300, "+8613900000002", "complaint")):
            iid, rid = str(uuid.uuid4()), str(uuid.uuid4())
            cur.execute("""INSERT INTO interactions (id, direction, started_at, queue_name, agent_id, disposition, caller_number)
                           VALUES (%s, 'inbound', %s, %s, %s, %s, %s)""", (iid, NOW, queue, agents[code], disposition, caller))
            cur.execute("""INSERT INTO recordings (id, interaction_id, agent_id, queue_name, caller_number, path, started_at,
                           duration_ms) VALUES (%s, %s, %s, %s, %s, '/rec.wav', %s, %s)""",
                        (rid, iid, agents[code], queue, caller, NOW + timedelta(seconds=5), seconds * 1000))
            recs[code] = rid
    reviewer = User(ids["reviewer"], "reviewer", "Reviewer", ("supervisor",), "en", True)
    return {"agents": agents, "recordings": recs, "reviewer": reviewer, "users": ids}


def test_search_by_every_filter_within_the_scope(db, site) -> None:
    admin = Scope(1, admin=True)
    q1_only = Scope(2, queues=frozenset({"q1"}))
    find = lambda scope, **args: [r["id"] for r in search_recordings(db, scope, RecordingFilter.from_args(args, "UTC"))]  # noqa: E731
    both = sorted(site["recordings"].values())
    assert sorted(find(admin)) == both
    assert find(q1_only) == [site["recordings"]["2001"]]
    assert find(Scope(3, agents=frozenset({site["agents"]["2002"]}))) == [site["recordings"]["2002"]]
    assert find(Scope(4)) == []
    assert find(admin, min_duration="60") == [site["recordings"]["2002"]]
    assert find(admin, max_duration="60") == [site["recordings"]["2001"]]
    assert find(admin, caller="139") == [site["recordings"]["2002"]]
    assert find(admin, disposition="resolved") == [site["recordings"]["2001"]]
    assert find(admin, queue="q2", agent=str(site["agents"]["2002"])) == [site["recordings"]["2002"]]
    assert sorted(find(admin, **{"from": "2026-11-20", "to": "2026-11-20"})) == both
    assert find(admin, **{"from": "2026-11-21"}) == []
    with pytest.raises(QualityError, match="from: give a date"):
        RecordingFilter.from_args({"from": "yesterday"}, "UTC")


def test_score_a_recording_then_the_agent_reads_it(db, site) -> None:
    form_id = save_form(db, name="Inbound basics", description="", criteria=parse_criteria(FORM))
    rec = recording(db, Scope(1, admin=True), site["recordings"]["2001"])
    saved = save_score(db, recording_row=rec, form_id=form_id, comments="Good call", scorer=site["reviewer"],
                       items=[{"position": 0, "points": 4, "comment": "warm"}, {"position": 1, "points": 10}])
    assert saved["total"] == 95.0
    # the same reviewer scoring again with the same form replaces the review
    again = save_score(db, recording_row=rec, form_id=form_id, comments="Re-scored", scorer=site["reviewer"],
                       items=[{"position": 0, "points": 5}, {"position": 1, "points": 10}])
    assert again["id"] == saved["id"] and again["total"] == 100.0
    agent = agent_of_user(db, site["users"]["agent_q1"])
    mine = scores(db, agent_id=agent)
    assert [(s["form_name"], s["total"], s["comments"], s["scorer_name"]) for s in mine] == [
        ("Inbound basics", 100.0, "Re-scored", "Reviewer")]
    assert [(i["label"], i["points"], i["max_points"]) for i in mine[0]["items"]] == [("Greeting", 5, 5), ("Solution", 10, 10)]
    assert scores(db, agent_id=agent_of_user(db, site["users"]["agent_q2"])) == []
    listed = search_recordings(db, Scope(1, admin=True), RecordingFilter(queue="q1"))
    assert (listed[0]["reviews"], float(listed[0]["average_total"])) == (1, 100.0)


def test_editing_a_form_never_changes_a_score_already_given(db, site) -> None:
    form_id = save_form(db, name="Editable", description="", criteria=parse_criteria(FORM))
    rec = recording(db, Scope(1, admin=True), site["recordings"]["2002"])
    save_score(db, recording_row=rec, form_id=form_id, comments="", scorer=site["reviewer"],
               items=[{"position": 0, "points": 5}, {"position": 1, "points": 0}])
    save_form(db, form_id=form_id, name="Editable", description="v2",
              criteria=parse_criteria([{"label": "Empathy", "weight": 2, "max_points": 3}]))
    kept = scores(db, recording_id=site["recordings"]["2002"])
    assert [(i["label"], i["weight"]) for i in kept[0]["items"]] == [("Greeting", 1.0), ("Solution", 3.0)]
    assert [c["label"] for f in list_forms(db) if f["id"] == form_id for c in f["criteria"]] == ["Empathy"]


def test_retired_forms_and_unseen_recordings_are_refused(db, site) -> None:
    form_id = save_form(db, name="Retired", description="", criteria=parse_criteria(FORM), active=False)
    rec = recording(db, Scope(1, admin=True), site["recordings"]["2001"])
    with pytest.raises(QualityError, match="retired"):
        save_score(db, recording_row=rec, form_id=form_id, comments="", scorer=site["reviewer"],
                   items=[{"position": 0, "points": 1}, {"position": 1, "points": 1}])
    with pytest.raises(NotFound):
        recording(db, Scope(2, queues=frozenset({"q2"})), site["recordings"]["2001"])
    with pytest.raises(QualityError, match="exists already"):
        save_form(db, name="retired", description="", criteria=parse_criteria(FORM))
