"""The audit log: generic writes (alone or inside the caller's transaction), filtered
reading newest first with keyset pages, and the CSV export (report format, formulas
defused)."""

from __future__ import annotations

import csv
import io

import pytest

from cti.audit import (
    SYSTEM,
    Actor,
    AuditError,
    AuditFilter,
    failed,
    iter_csv,
    record,
    refused,
    search,
)

ADA = Actor.user(1, "ada")
BOT = Actor.token(9, "crm-sync")


@pytest.fixture(scope="module")
def rows(db):
    db.execute("DELETE FROM audit_log")
    record(db, ADA, "call.listen", "call", "ix-1", {"mode": "listen", "leg_uuid": "L1"})
    record(db, ADA, "call.force_hangup", "call", "ix-2", {}, refused("this call is not in your queues or teams"))
    record(db, BOT, "api.updateCampaign", "campaign", 7, {"ip": "10.0.0.1"}, "refused 403")
    record(db, ADA, "agent.force_not_ready", "agent", 12, {"reason": "=cmd|' /C calc'!A0"}, failed("switch down"))
    with db.transaction() as cur:   # inside someone else's change: commits with it
        record(cur, SYSTEM, "quality.form", "quality_form", 3, {"created": True})
    return db


def actions(found: list[dict]) -> list[str]:
    return [r["action"] for r in found]


@pytest.mark.parametrize(("args", "expected"), [
    ({}, ["quality.form", "agent.force_not_ready", "api.updateCampaign", "call.force_hangup", "call.listen"]),
    ({"actor": "ada"}, ["agent.force_not_ready", "call.force_hangup", "call.listen"]),
    ({"action": "call."}, ["call.force_hangup", "call.listen"]),
    ({"action": "call.listen"}, ["call.listen"]),
    ({"action": "call"}, []),                             # a whole name, not a prefix
    ({"target_type": "agent", "target_id": "12"}, ["agent.force_not_ready"]),
    ({"result": "ok"}, ["quality.form", "call.listen"]),
    ({"result": "refused"}, ["api.updateCampaign", "call.force_hangup"]),   # ours and the API's wording
    ({"result": "failed"}, ["agent.force_not_ready"]),
    ({"from": "2000-01-01", "to": "2999-12-31"}, ["quality.form", "agent.force_not_ready", "api.updateCampaign",
                                                  "call.force_hangup", "call.listen"]),
    ({"to": "2000-01-01"}, []),
])
def test_filters(rows, args: dict, expected: list[str]) -> None:
    assert actions(search(rows, AuditFilter.from_args(args, "Asia/Shanghai"))) == expected


def test_pages_go_back_in_time(rows) -> None:
    first = search(rows, AuditFilter(limit=2))
    older = search(rows, AuditFilter(limit=2, before_id=first[-1]["id"]))
    assert actions(first) + actions(older) == ["quality.form", "agent.force_not_ready", "api.updateCampaign",
                                               "call.force_hangup"]
    assert first[0]["details"] == {"created": True} and first[0]["actor_type"] == "system"


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "last week"}, "from: give a date"),
    ({"result": "maybe"}, "result must be one of"),
    ({"limit": "0"}, "limit: give a whole number between 1 and 1000"),
    ({"before": "x"}, "before: give a whole number"),
])
def test_bad_filters_say_what_to_change(args: dict, message: str) -> None:
    with pytest.raises(AuditError, match=message):
        AuditFilter.from_args(args, "UTC")


def test_bad_records_are_refused(db) -> None:
    with pytest.raises(AuditError, match="dotted words"):
        record(db, ADA, "listen to a call")
    with pytest.raises(AuditError, match="result must be"):
        record(db, ADA, "call.listen", result="maybe")
    with pytest.raises(AuditError, match="actor type"):
        Actor("robot", 1, "r2")


def test_csv_export_in_the_site_zone_with_formulas_defused(rows) -> None:
    text = "".join(iter_csv(rows, AuditFilter.from_args({"actor": "ada"}, "UTC"), "Asia/Shanghai"))
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in table] == ["agent.force_not_ready", "call.force_hangup", "call.listen"]
    assert table[0]["at"].endswith("+08:00")
    assert table[0]["details"] == '{"reason": "=cmd|\' /C calc\'!A0"}'   # JSON text starts with {: safe
    assert table[0]["result"] == "failed: switch down" and table[2]["actor_name"] == "ada"


def test_csv_cells_that_would_run_as_formulas_get_an_apostrophe(db) -> None:
    record(db, Actor.user(2, "=HYPERLINK(evil)"), "call.listen", "call", "-1+1")
    text = "".join(iter_csv(db, AuditFilter(actor="=HYPERLINK(evil)"), "UTC"))
    row = next(csv.DictReader(io.StringIO(text)))
    assert (row["actor_name"], row["target_id"]) == ("'=HYPERLINK(evil)", "'-1+1")


def test_an_empty_export_still_has_its_header(db) -> None:
    assert "".join(iter_csv(db, AuditFilter(actor="nobody"), "UTC")) == (
        "id,at,actor_type,actor_id,actor_name,action,target_type,target_id,result,details\n")
