"""Loading the site for routing (routing/site.py) from a provisioned database: what is
loaded, the change fingerprint, bad edits that keep the previous version, and the
per-call reads (customer, shortcut, last agent, quick-menu requests)."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from cti.provision import provision
from routing.callers import CallerClass
from routing.ivr_state import CallerShortcut
from routing.site import Site, SiteLoader
from tests.routing.engine_site import SITE


@pytest.fixture(scope="module")
def loader(db) -> SiteLoader:
    site = copy.deepcopy(SITE)
    site["caller_lists"] = {"blacklist": ["+15550666"], "vip": [{"number": "+15550777", "note": "gold"}]}
    provision(db, site)
    return SiteLoader(db)


def test_the_site_is_loaded_as_provisioned(loader: SiteLoader) -> None:
    site = loader.load()
    assert not site.problems
    assert site.rules["overflow_src"].max_wait == 5 and str(site.rules["overflow_src"].overflow) == "queue:overflow_dst"
    agent = next(a for a in site.agents.values() if a.code == "1001")
    assert agent.skills == {"french": 8} and agent.queues == {"ivr_sales": 1}
    assert site.memberships["rona"] == tuple(sorted(a.id for a in site.agents.values() if a.code in ("1002", "1003")))
    main = site.flow_for_did("5551000")
    assert main is not None and main.name == "main" and main.version == 1
    assert site.flow_for_did("555-1000") is main and site.flow_for_did("5550000") is None
    assert site.callers.classify("+1 555 0666") is CallerClass.BLACKLISTED
    assert site.callers.classify("+15550777") is CallerClass.VIP


def test_the_fingerprint_changes_only_with_the_site(db, loader: SiteLoader) -> None:
    before = loader.fingerprint()
    assert loader.fingerprint() == before
    db.execute("UPDATE agent_skills SET level = 9 WHERE skill = 'french' AND level = 8")
    assert loader.fingerprint() != before


def test_a_bad_edit_keeps_the_previous_version_and_says_what_is_wrong(db, loader: SiteLoader) -> None:
    good = loader.load()
    broken = copy.deepcopy(next(f for f in SITE["flows"] if f["name"] == "main"))
    broken["start"] = "nowhere"
    db.execute("INSERT INTO flows (name, version, definition, checksum) VALUES ('main', 2, %s, 'x')",
               (json.dumps(broken),))
    db.execute("""UPDATE queues SET settings = settings || '{"strategy": "random"}'::jsonb WHERE name = 'rona'""")
    try:
        site = loader.load(good)
        assert site.flows["main"].version == 1
        assert site.rules["rona"] == good.rules["rona"]
        assert any("flow 'main'" in p and "nowhere" in p for p in site.problems)
        assert any("queue 'rona'" in p and "strategy" in p for p in site.problems)
        assert Site().flow_for_did("5551000") is None
    finally:
        db.execute("DELETE FROM flows WHERE name = 'main' AND version = 2")
        db.execute("UPDATE queues SET settings = settings - 'strategy' WHERE name = 'rona'")


def test_caller_facts_and_quick_menu_requests(db, loader: SiteLoader) -> None:
    agent_id = db.fetchone("SELECT id FROM agents WHERE code = '1001'")["id"]
    db.execute("""INSERT INTO interactions (id, direction, caller_number, agent_id, started_at, answered_at)
                  VALUES (%s, 'inbound', '+15550001', %s, now() - interval '2 hours', now() - interval '2 hours')""",
               (str(uuid.uuid4()), agent_id))
    db.execute("""INSERT INTO caller_shortcuts (caller_number, flow_name, kind, node)
                  VALUES ('+15550001', 'main', 'last', 'support'), ('+15550001', 'main', 'saved', 'sales')""")
    db.execute("""INSERT INTO ivr_node_stats (flow_name, flow_version, node, day, visits)
                  VALUES ('main', 1, 'sales', current_date, 7), ('main', 1, 'sales', current_date - 1, 5),
                         ('main', 1, 'support', current_date - 60, 99)""")
    facts = loader.caller_facts("+15550001", "main")
    assert facts.customer is not None and facts.customer["name"] == "Jane Doe"
    assert facts.shortcut == CallerShortcut("sales", True)
    assert facts.last_agent is not None and facts.last_agent[0] == agent_id
    assert loader.caller_facts("", "main").customer is None
    assert loader.service_requests("main") == {"sales": 12}
