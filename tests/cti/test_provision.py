from __future__ import annotations

import copy
from pathlib import Path

import pytest

from cti.provision import ProvisionError, load_site_file, provision
from cti.users import authenticate

SITE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"


@pytest.fixture(scope="module")
def site() -> dict:
    return load_site_file(SITE)


def table_counts(db) -> dict[str, int]:
    tables = ["users", "agents", "agent_skills", "queues", "queue_agents", "flows", "dids",
              "calendars", "disposition_codes", "reason_codes", "caller_lists", "customers",
              "customer_numbers", "queue_supervisors", "team_supervisors"]
    return {t: db.fetchone(f"SELECT count(*) AS n FROM {t}")["n"] for t in tables}


def test_demo_site_loads_and_is_idempotent(db, site) -> None:
    first = provision(db, site)
    assert first.counts["agents"] == 20
    assert first.counts["queues"] == 4
    assert first.new_flow_versions == ["main v1", "hotline v1"]
    after_first = table_counts(db)
    second = provision(db, site)
    assert second.new_flow_versions == []
    assert table_counts(db) == after_first
    assert after_first["agents"] == 20 and after_first["flows"] == 2


def test_agent_details_are_stored(db, site) -> None:
    provision(db, site)
    row = db.fetchone(
        """SELECT a.code, a.default_extension, u.display_name, u.roles, t.name AS team
           FROM agents a JOIN users u ON u.id = a.user_id JOIN teams t ON t.id = a.team_id
           WHERE u.username = 'agent1000'"""
    )
    assert row == {"code": "1000", "default_extension": "1000", "display_name": "张伟",
                   "roles": ["agent"], "team": "Team A"}
    skills = db.fetchall(
        "SELECT skill, level FROM agent_skills s JOIN agents a ON a.id = s.agent_id WHERE a.code = '1000' ORDER BY skill"
    )
    assert skills == [{"skill": "chinese", "level": 9}, {"skill": "sales", "level": 8}]
    assert authenticate(db, "agent1000", "agent1000") is not None
    assert authenticate(db, "admin", "admin123").roles == ("admin",)


def test_changed_flow_gets_a_new_version_and_keeps_the_old(db, site) -> None:
    provision(db, site)
    edited = copy.deepcopy(site)
    edited["flows"][1]["nodes"]["welcome"]["prompt"] = "hotline_welcome_v2.wav"
    report = provision(db, edited)
    assert report.new_flow_versions == ["hotline v2"]
    versions = db.fetchall("SELECT version FROM flows WHERE name = 'hotline' ORDER BY version")
    assert [v["version"] for v in versions] == [1, 2]


def test_every_problem_is_reported_with_its_place(db, site) -> None:
    broken = copy.deepcopy(site)
    broken["agents"][3]["skills"]["juggling"] = 5
    broken["agents"][4]["skills"]["sales"] = 42
    broken["queues"][0]["strategy"] = "fastest"
    broken["flows"][0]["nodes"]["main_menu"]["options"]["4"] = "nowhere"
    broken["users"][0]["roles"] = ["emperor"]
    broken["dids"].append({"number": "123", "flow": "missing"})
    before = table_counts(db)
    with pytest.raises(ProvisionError) as info:
        provision(db, broken)
    message = str(info.value)
    for expected in ("agents[3].skills.juggling", "agents[4].skills.sales", "queues[0]", "strategy",
                     "nowhere", "users[0]", "dids[2]"):
        assert expected in message
    assert table_counts(db) == before  # nothing written


def test_unreadable_files_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text("users: [unclosed")
    with pytest.raises(ProvisionError, match="not valid YAML"):
        load_site_file(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ProvisionError, match="expected a mapping"):
        load_site_file(bad)
