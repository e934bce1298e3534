"""The customer directory: number normalisation, CRUD with clear errors, and the
screen-pop history built from what the store writer wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.bus import EventBus
from cti.config import ConfigError
from cti.customers import (
    CustomerDirectory,
    CustomerError,
    normalize_number,
    number_candidates,
    region_from,
)
from cti.db import Database
from cti.store import StoreWriter
from tests.cti.test_store_support import Calls, make_agents


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+44 20 7946 0018", None, "+442079460018"),
    ("+1 (415) 555-0100", None, "+14155550100"),
    ("020 7946 0018", "GB", "+442079460018"),
    ("13800138000", "CN", "+8613800138000"),
    ("020 7946 0018", None, "020 7946 0018"),      # national, no region: kept as given
    ("  1001 ", "US", "1001"),                      # an extension is not a possible number
    ("anonymous", "US", "anonymous"),
    ("", "US", ""),
])
def test_numbers_are_normalised_or_kept_as_given(raw: str, region: str | None, expected: str) -> None:
    assert normalize_number(raw, region) == expected


@given(st.text(max_size=30), st.sampled_from([None, "US", "GB", "CN"]))
def test_normalising_never_fails_and_is_stable(raw: str, region: str | None) -> None:
    once = normalize_number(raw, region)
    assert normalize_number(once, region) == once
    candidates = number_candidates(raw, region)
    assert candidates == [] if not raw.strip() else candidates[0] == once and candidates[-1] == raw.strip()


def test_the_region_setting_is_checked() -> None:
    assert region_from({"CTI_PHONE_REGION": "cn"}) == "CN"
    assert region_from({}) is None
    with pytest.raises(ConfigError, match="CTI_PHONE_REGION: unknown region 'XX'"):
        region_from({"CTI_PHONE_REGION": "XX"})


@pytest.fixture(scope="module")
def directory(db: Database) -> CustomerDirectory:
    return CustomerDirectory(db, region="GB")


def test_create_lookup_update_delete(directory: CustomerDirectory) -> None:
    ada = directory.create(name="Ada Lovelace", numbers=["020 7946 0001"], company="Analytical", vip=True,
                           tags=["gold", "gold", "vip "])
    assert ada.numbers == (("+442079460001", ""),) and ada.tags == ("gold", "vip") and ada.vip
    assert directory.lookup("+44 20 7946 0001") == ada
    assert directory.lookup("02079460001") == ada
    assert directory.lookup("+442079469999") is None

    changed = directory.update(ada.id, notes="prefers mornings", vip=False)
    assert (changed.notes, changed.vip, changed.name) == ("prefers mornings", False, "Ada Lovelace")
    with_mobile = directory.add_number(ada.id, "07700 900123", label="mobile")
    assert ("+447700900123", "mobile") in with_mobile.numbers
    assert directory.remove_number(ada.id, "+447700900123").numbers == (("+442079460001", ""),)
    assert [c.id for c in directory.search("analyt")] == [ada.id]
    assert [c.id for c in directory.search("+44207946000")] == [ada.id]

    directory.delete(ada.id)
    assert directory.lookup("02079460001") is None
    with pytest.raises(CustomerError) as missing:
        directory.get(ada.id)
    assert (missing.value.status, missing.value.error_id) == (404, "customer-not-found")


def test_a_number_belongs_to_one_customer(directory: CustomerDirectory) -> None:
    first = directory.create(name="First", numbers=["+442079460002"])
    second = directory.create(name="Second")
    with pytest.raises(CustomerError, match="already belongs to customer") as taken:
        directory.add_number(second.id, "020 7946 0002")
    assert (taken.value.status, taken.value.error_id, taken.value.details) == (
        409, "number-taken", {"customer_id": first.id})
    with pytest.raises(CustomerError, match="number-taken|already belongs"):
        directory.create(name="Third", numbers=["+442079460002"])
    assert [c.name for c in directory.search("Third")] == [], "a refused create must not leave a customer behind"


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "needs a name"),
    ({"vip": "yes"}, "vip must be true or false"),
    ({"tags": "gold"}, "tags must be a list"),
    ({"shoe_size": 42}, "unknown customer field"),
    ({"notes": "x" * 2001}, "at most 2000"),
])
def test_bad_changes_say_what_to_fix(directory: CustomerDirectory, fields: dict, message: str) -> None:
    customer = directory.create(name="Editable")
    with pytest.raises(CustomerError, match=message):
        directory.update(customer.id, **fields)


def test_provisioned_numbers_in_another_spelling_are_found(db: Database, directory: CustomerDirectory) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO customers (name) VALUES ('Raw') RETURNING id")
        raw_id = cur.fetchone()["id"]
        cur.execute("INSERT INTO customer_numbers (number, customer_id) VALUES ('020 7946 0003', %s)", (raw_id,))
    found = directory.lookup("020 7946 0003")
    assert found is not None and found.id == raw_id


def test_the_screen_pop_shows_the_last_calls(db: Database, directory: CustomerDirectory, tmp_path: Path) -> None:
    agent = make_agents(db, 1, prefix="cust")[0]
    calls = Calls(agent, start=1_801_000_000.0)
    before = calls.abandoned(caller="+442079460004")           # before the customer existed
    answered = calls.answered(agent, caller="+442079460004", talk=40.0)
    calls.wrapup_done(agent, "resolved", "sent the invoice")
    writer = StoreWriter(db, EventBus(), tmp_path)
    writer.start()
    try:
        for event in calls.events:
            writer.bus.publish(event)
        assert writer.flush(10)
    finally:
        writer.stop()
    with db.transaction() as cur:
        cur.execute("""INSERT INTO recordings (id, interaction_id, path, started_at)
                       VALUES (gen_random_uuid(), %s, '/rec/a.wav', now())""", (answered,))

    customer = directory.create(name="Grace", numbers=["020 7946 0004"])   # back-fills both calls
    pop = directory.screen_pop("02079460004", limit=5)
    assert pop["number"] == "+442079460004" and pop["customer"]["name"] == "Grace"
    assert [h["interaction_id"] for h in pop["history"]] == [answered, before]
    last = pop["history"][0]
    assert (last["queue"], last["agent_id"], last["disposition"], last["notes"], last["outcome"]) == (
        "support", agent, "resolved", "sent the invoice", "answered")
    assert last["agent_code"] and len(last["recording_ids"]) == 1
    assert pop["history"][1]["outcome"] == "abandoned" and pop["history"][1]["agent_id"] is None
    assert directory.history(customer.id, limit=1) == pop["history"][:1]


def test_an_unknown_caller_pops_no_customer(directory: CustomerDirectory) -> None:
    assert directory.screen_pop("+442079469998") == {"number": "+442079469998", "customer": None, "history": []}
