"""The dialer's SQL against the real PostgreSQL: the check before each dial (DNC lists,
the UK redial rules, daily caps) and the daily compliance counters."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cti.db import Database
from outbound import store
from outbound.abandon import CallCounts
from outbound.campaign_settings import parse_campaign
from outbound.campaign_states import ContactEffect, ContactEvent, ContactState, contact_transition
from outbound.compliance import Refusal
from outbound.retries import CallOutcome, NextStep, RetryPolicy, after_call

LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 6, 3, 12, 0, tzinfo=LONDON)
_ids = itertools.count(1)


@pytest.fixture
def campaign(db: Database) -> dict[str, Any]:
    n = next(_ids)
    with db.transaction() as cur:
        cur.execute("INSERT INTO outbound_campaigns (name, compliance_profile) VALUES (%s, 'uk_ofcom') RETURNING id",
                    (f"camp-{n}",))
        campaign_id = cur.fetchone()["id"]
        cur.execute("INSERT INTO outbound_contact_lists (name, campaign_id) VALUES (%s, %s) RETURNING id",
                    (f"store-list-{n}", campaign_id))
        list_id = cur.fetchone()["id"]
        cur.execute("INSERT INTO outbound_contacts (list_id, e164) VALUES (%s, %s) RETURNING id",
                    (list_id, f"+4479111{n:05d}"))
        contact_id = cur.fetchone()["id"]
    return {"id": campaign_id, "contact": contact_id, "e164": f"+4479111{n:05d}"}


def check(db: Database, campaign: dict[str, Any], now: datetime = NOON, **kw: Any) -> Any:
    rules = parse_campaign("predictive", "uk_ofcom", {"max_attempts_per_day": 2}, site_zone="Europe/London")
    with db.transaction() as cur:
        return store.check_before_dial(cur, campaign_id=campaign["id"], contact_id=campaign["contact"],
                                       e164=campaign["e164"], zones=("Europe/London",), rules=rules.dial_rules(),
                                       now=now, **kw)


def attempt(db: Database, campaign: dict[str, Any], started: datetime, outcome: str) -> None:
    db.execute(
        "INSERT INTO outbound_attempts (campaign_id, contact_id, e164, mode, started_at, outcome) "
        "VALUES (%s, %s, %s, 'predictive', %s, %s)",
        (campaign["id"], campaign["contact"], campaign["e164"], started, outcome),
    )


def test_clean_contact_is_allowed(db: Database, campaign: dict[str, Any]) -> None:
    assert check(db, campaign).allowed


def test_global_and_campaign_dnc_lists(db: Database, campaign: dict[str, Any]) -> None:
    with db.transaction() as cur:
        own = store.campaign_dnc_list(cur, campaign["id"])
        assert store.campaign_dnc_list(cur, campaign["id"]) == own        # created once
        store.add_to_dnc(cur, own, campaign["e164"], reason="asked on the call")
        store.add_to_dnc(cur, own, campaign["e164"])                       # idempotent
    assert check(db, campaign).refusals == (Refusal.CAMPAIGN_DNC,)
    with db.transaction() as cur:
        cur.execute("INSERT INTO outbound_dnc_lists (name) VALUES (%s) RETURNING id", (f"tps-{campaign['id']}",))
        store.add_to_dnc(cur, cur.fetchone()["id"], campaign["e164"], reason="national register")
    verdict = check(db, campaign)
    assert set(verdict.refusals) == {Refusal.GLOBAL_DNC, Refusal.CAMPAIGN_DNC} and verdict.final


def test_another_campaigns_dnc_list_does_not_apply(db: Database, campaign: dict[str, Any]) -> None:
    other = db.fetchone("INSERT INTO outbound_campaigns (name) VALUES (%s) RETURNING id", (f"other-{next(_ids)}",))
    assert other is not None
    with db.transaction() as cur:
        store.add_to_dnc(cur, store.campaign_dnc_list(cur, other["id"]), campaign["e164"])
    assert check(db, campaign).allowed


def test_uk_abandoned_call_blocks_redial_for_72_hours_from_the_attempts_table(db: Database,
                                                                             campaign: dict[str, Any]) -> None:
    attempt(db, campaign, NOON - timedelta(hours=71), "abandoned")
    verdict = check(db, campaign)
    assert verdict.refusals == (Refusal.ABANDONED_RECENTLY,) and verdict.needs_reserved_agent
    assert verdict.not_before == NOON + timedelta(hours=1)
    assert check(db, campaign, agent_reserved=True).allowed
    assert check(db, campaign, now=NOON + timedelta(hours=1, seconds=1)).allowed


def test_daily_cap_counts_todays_attempts_in_the_contacts_zone(db: Database, campaign: dict[str, Any]) -> None:
    attempt(db, campaign, NOON - timedelta(days=1), "no_answer")      # yesterday: not counted
    attempt(db, campaign, NOON - timedelta(hours=3), "no_answer")
    assert check(db, campaign).allowed
    attempt(db, campaign, NOON - timedelta(hours=1), "busy")
    verdict = check(db, campaign)
    assert verdict.refusals == (Refusal.DAILY_CAP,)
    assert verdict.not_before == datetime(2026, 6, 4, 8, 0, tzinfo=LONDON)


def test_counters_and_figures(db: Database, campaign: dict[str, Any]) -> None:
    rules = parse_campaign("predictive", "uk_ofcom", {"amd": {"false_positive_rate": 0.05}},
                           site_zone="America/New_York")
    late_evening_utc = datetime(2026, 6, 3, 23, 30, tzinfo=UTC)     # 00:30 on the 4th in London
    day = store.counter_day(rules, late_evening_utc)
    assert day == date(2026, 6, 4)                                    # UK days run midnight to midnight, UK time
    with db.transaction() as cur:
        store.bump_counters(cur, campaign["id"], day, dials=10, connected=6, amd_machine=2)
        store.bump_counters(cur, campaign["id"], day, dials=1, abandoned=1)
        store.bump_counters(cur, campaign["id"], day - timedelta(days=1), connected=50)
        counts = store.daily_counts(cur, campaign["id"], day - timedelta(days=1), day)
        figures = store.compliance_figures(cur, campaign["id"], rules, day)
    assert counts[day] == CallCounts(dials=11, connected=6, abandoned=1, amd_machine=2)
    assert counts[day - timedelta(days=1)] == CallCounts(connected=50)
    (today,) = figures
    assert today.formula == "ofcom" and today.period == "day"
    assert today.rate.rate == pytest.approx((1 + 0.1) / (6 + 1 + 0.1))
    assert not today.within_limit


def test_default_profile_figures_include_the_rolling_30_days(db: Database, campaign: dict[str, Any]) -> None:
    rules = parse_campaign("predictive", "default", {}, site_zone="UTC")
    day = date(2026, 6, 30)
    with db.transaction() as cur:
        store.bump_counters(cur, campaign["id"], day, connected=97, abandoned=3)
        store.bump_counters(cur, campaign["id"], day - timedelta(days=29), connected=100)
        store.bump_counters(cur, campaign["id"], day - timedelta(days=30), abandoned=100)
        today, rolling = store.compliance_figures(cur, campaign["id"], rules, day)
    assert today.rate.rate == pytest.approx(0.03) and today.within_limit
    assert rolling.counts == CallCounts(connected=197, abandoned=3)


def test_unknown_counter_names_are_refused(db: Database, campaign: dict[str, Any]) -> None:
    with db.transaction() as cur, pytest.raises(ValueError, match="unknown or no counters"):
        store.bump_counters(cur, campaign["id"], date(2026, 1, 1), drops=1)


def test_a_dial_cycle_through_the_state_machine_and_the_retry_rules(db: Database, campaign: dict[str, Any]) -> None:
    with db.transaction() as cur:
        due = store.claim_due_contacts(cur, campaign["id"], NOON, limit=10)
        assert [c["id"] for c in due] == [campaign["contact"]]
        state, effects = contact_transition(ContactState(due[0]["state"]), ContactEvent.DIAL)
        assert effects == (ContactEffect.RECORD_ATTEMPT,)
        attempt_id = store.start_attempt(cur, campaign_id=campaign["id"], contact_id=campaign["contact"],
                                         e164=campaign["e164"], mode="predictive", started_at=NOON)
        store.set_contact_state(cur, campaign["contact"], state)
    with db.transaction() as cur:      # a dialing contact is not due again
        assert store.claim_due_contacts(cur, campaign["id"], NOON, limit=10) == []

    with db.transaction() as cur:
        store.finish_attempt(cur, attempt_id, CallOutcome.NO_ANSWER, ended_at=NOON + timedelta(seconds=25),
                             ring_seconds=25.0, hangup_cause="NO_ANSWER")
        counts = store.outcome_counts(cur, campaign["contact"])
        decision = after_call(RetryPolicy(), CallOutcome.NO_ANSWER, attempts=sum(counts.values()),
                              attempts_with_outcome=counts[CallOutcome.NO_ANSWER], now=NOON)
        assert decision.step is NextStep.RETRY
        state, _ = contact_transition(state, ContactEvent.RETRY)
        store.set_contact_state(cur, campaign["contact"], state, next_attempt_at=decision.not_before)
    row = db.fetchone("SELECT state, attempts, last_outcome, next_attempt_at FROM outbound_contacts WHERE id = %s",
                      (campaign["contact"],))
    assert row == {"state": "scheduled_retry", "attempts": 1, "last_outcome": "no_answer",
                   "next_attempt_at": NOON + timedelta(hours=2)}
    with db.transaction() as cur:
        assert store.claim_due_contacts(cur, campaign["id"], NOON + timedelta(hours=1), limit=10) == []
        assert len(store.claim_due_contacts(cur, campaign["id"], NOON + timedelta(hours=2), limit=10)) == 1
