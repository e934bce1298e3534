"""The screen-pop document (webapp/screen_pop.py), the transfer targets and numbers an
agent types (cti/call_targets.py) and the wrap-up form (webapp/agent_wrapup.py): the
pure parts, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cti.call_errors import BadRequest
from cti.call_targets import Target, check_dial_number, parse_target, safe_label
from webapp.agent_wrapup import check_wrapup
from webapp.rooms import MASK, Directory
from webapp.screen_pop import (
    all_digits,
    caller_lists_of,
    crm_url,
    ivr_steps,
    party_number,
    queue_info,
    shape,
)

DIRECTORY = Directory(secret_nodes={"hotline": frozenset({"account"})}, caller_lists={"+8613800138000": ("vip",)})
RECORD = {
    "id": "i-1", "direction": "inbound", "caller_number": "+8613800138000", "caller_name": "Wang", "did": "4008002000",
    "queue": "billing", "flow_name": "hotline", "digits": "12345678", "wait_seconds": 12.5,
    "ivr_path": [{"node": "welcome", "digits": ""}, {"node": "account", "digits": "123456"},
                 {"node": "menu", "digits": "1"}],
}


def test_secret_nodes_are_masked_and_so_are_all_digits() -> None:
    steps = ivr_steps(RECORD, frozenset({"account"}))
    assert [s["digits"] for s in steps] == ["", MASK * 6, "1"]
    assert [s["secret"] for s in steps] == [False, True, False]
    assert all_digits(RECORD, steps) == MASK * 8
    assert all_digits(RECORD, ivr_steps(RECORD, frozenset())) == "12345678"


def test_party_number_is_whom_we_called_for_outbound_calls() -> None:
    assert party_number(RECORD) == "+8613800138000"
    assert party_number({"direction": "outbound", "caller_number": "1010", "callee_number": "+8613911112222"}) == \
        "+8613911112222"


def test_crm_url_is_filled_and_encoded() -> None:
    template = "https://crm.example.com/contacts?phone={caller_number}&interaction={interaction_id}&agent={agent_code}"
    url = crm_url(template, RECORD, customer_id=4, agent_id=7, agent_code="1007")
    assert url == "https://crm.example.com/contacts?phone=%2B8613800138000&interaction=i-1&agent=1007"
    assert crm_url("", RECORD, customer_id=None, agent_id=None, agent_code="") is None


def test_a_known_customer_and_their_history_without_this_call() -> None:
    lookup = {"number": "+8613800138000", "customer": {"id": 4, "name": "王小明", "vip": True},
              "history": [{"interaction_id": "i-1"}, {"interaction_id": "i-0", "disposition": "resolved"}]}
    pop = shape(RECORD, directory=DIRECTORY, lookup=lookup, queue={"display_name": "Billing", "screen_pop_url": ""},
                did_label="English hotline", contact=None, caller_lists=["vip"], agent_id=7, agent_code="1007")
    assert pop["customer"]["name"] == "王小明" and pop["vip"] is True and pop["new_customer"] is None
    assert [h["interaction_id"] for h in pop["history"]] == ["i-0"]
    assert pop["queue_name"] == "Billing" and pop["did_label"] == "English hotline" and pop["crm_url"] is None
    assert pop["ivr"][1]["digits"] == MASK * 6 and pop["digits"] == MASK * 8


def test_an_unknown_caller_gets_the_create_form_prefilled() -> None:
    lookup = {"number": "+8613800138000", "customer": None, "history": []}
    pop = shape({**RECORD, "flow_name": "main"}, directory=DIRECTORY, lookup=lookup, queue=None, did_label="",
                contact=None, caller_lists=[], agent_id=None, agent_code="")
    assert pop["new_customer"] == {"number": "+8613800138000"} and pop["vip"] is False
    assert pop["digits"] == "12345678", "the main flow has no secret node"


def test_queue_info_and_caller_lists_from_the_directory() -> None:
    info = queue_info("sales", "销售 Sales", {"screen_pop_url": "https://crm/x?p={caller_number}",
                                               "disposition_required": True})
    assert info == {"display_name": "销售 Sales", "screen_pop_url": "https://crm/x?p={caller_number}",
                    "disposition_required": True}
    assert queue_info("bad", "", {"nonsense": 1})["screen_pop_url"] == ""
    assert caller_lists_of("13800138000", "+8613800138000", DIRECTORY) == ["vip"]


@pytest.mark.parametrize(("text", "expected"), [
    ("agent:7", Target("agent", "7")),
    ("queue:sales", Target("queue", "sales")),
    ("number:+86 138 0013 8000", Target("number", "+8613800138000")),
    ("+1 (650) 253-0000", Target("number", "+16502530000")),
])
def test_transfer_targets(text, expected) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["agent:bob", "queue:Sales!", "team:1", "", "12ab", "+0123"])
def test_bad_targets_say_how_to_write_them(text) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_target(text)
    assert refused.value.field in ("target", "number")


def test_national_numbers_need_the_site_region() -> None:
    assert check_dial_number("13800138000", "CN") == "+8613800138000"
    with pytest.raises(BadRequest, match="country code"):
        check_dial_number("13800138000")


def test_caller_id_labels_lose_what_the_switch_would_expand() -> None:
    assert safe_label("Wang ${system rm}'x'") == "Wang system rmx"
    assert safe_label("张伟 (1000)") == "张伟 (1000)"
    assert len(safe_label("x" * 100)) == 40


NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def wrapup(body, *, required=False):
    return check_wrapup(body, interaction_id="i-1", codes={"resolved", "sale"}, required=required,
                        zone="Asia/Shanghai", now=NOW)


def test_wrapup_checks_the_disposition_against_the_queue() -> None:
    assert wrapup({"disposition": "sale", "notes": " ok "}).notes == "ok"
    with pytest.raises(BadRequest, match="not a disposition of this queue"):
        wrapup({"disposition": "refund"})
    with pytest.raises(BadRequest, match="needs a disposition") as refused:
        wrapup({}, required=True)
    assert refused.value.error_id == "disposition-required"
    assert wrapup({}).disposition == ""


def test_wrapup_callback_times_are_site_local_and_in_the_future() -> None:
    soon = wrapup({"callback": {"number": "+8613800138000", "at": "2026-11-23T10:30"}}).callback
    assert soon is not None and soon.at == datetime(2026, 11, 23, 2, 30, tzinfo=UTC), "10:30 in Shanghai"
    assert wrapup({"callback": {"number": "+8613800138000", "at": ""}}).callback.at == NOW
    for bad in ("2026-11-22T08:00", "2027-06-01T10:00", "tomorrow"):
        with pytest.raises(BadRequest) as refused:
            wrapup({"callback": {"number": "+8613800138000", "at": bad}})
        assert refused.value.field == "callback_at"
    with pytest.raises(BadRequest):
        wrapup({"callback": {"number": "call me", "at": ""}})


def test_every_label_the_desktop_uses_exists_in_both_languages() -> None:
    import re
    from pathlib import Path

    from cti.agent_states import AgentState
    from cti.transfer_states import SessionState
    from webapp import agent_labels  # noqa: F401 - adds the labels
    from webapp.i18n import CATALOG

    root = Path(__file__).resolve().parents[2]
    used = set(re.findall(r"t\('(ag_[a-z_]+)'\)", (root / "webapp/templates/agent.html").read_text(encoding="utf-8")))
    used |= set(re.findall(r't\("(ag_[a-z_]+)"\)', (root / "static/js/agent.js").read_text(encoding="utf-8")))
    used |= {f"ag_st_{s.value}" for s in AgentState} | {f"ag_sess_{s.value}" for s in SessionState if s.value != "ended"}
    used |= {label for _key, label in agent_labels.SHORTCUTS}
    missing = sorted(key for key in used if key not in CATALOG or not CATALOG[key].get("zh"))
    assert missing == []
