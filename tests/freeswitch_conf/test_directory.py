"""The 20 agent phones and the fallback voicemail box."""

from __future__ import annotations

import pytest

from tests.freeswitch_conf import fsconf

AGENTS = [str(n) for n in range(1000, 1020)]
USER_VARIABLES = {
    "user_context",
    "toll_allow",
    "effective_caller_id_name",
    "effective_caller_id_number",
}


def _params(user) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in user.iter("param")}


def _variables(user) -> dict[str, str]:
    return {v.get("name", ""): v.get("value", "") for v in user.iter("variable")}


def test_the_twenty_agent_users_exist() -> None:
    users = fsconf.directory_users()
    assert [u for u in users if u.isdigit() and 1000 <= int(u) <= 1019] == AGENTS


@pytest.mark.parametrize("agent", AGENTS)
def test_an_agent_replaces_the_vanilla_demo_user_of_the_same_file(agent) -> None:
    """Same file name as vanilla's directory/default/<id>.xml, so installing overwrites it
    instead of leaving a second definition (FreeSWITCH would use the first)."""
    path, user = fsconf.directory_users()[agent]
    assert fsconf.rel(path) == f"directory/default/{agent}.xml"
    assert _params(user) == {"password": "$${cti_agent_password}"}
    variables = _variables(user)
    assert USER_VARIABLES <= set(variables)
    assert variables["effective_caller_id_number"] == agent
    assert variables["user_context"] == "default"


@pytest.mark.parametrize("user_id", sorted(fsconf.directory_users()))
def test_users_use_only_real_parameters_and_variables(user_id) -> None:
    _, user = fsconf.directory_users()[user_id]
    assert set(_params(user)) <= fsconf.reference_params("directory user param")
    assert set(_variables(user)) <= fsconf.reference_params("directory user variable")


def test_the_fallback_voicemail_box_has_a_pin_and_no_usable_sip_login() -> None:
    box = fsconf.site_vars()["cti_fallback_voicemail_box"]
    assert box.isdigit(), "mailboxes are reached by DTMF (*98)"
    _, user = fsconf.directory_users()[box]
    assert _params(user) == {
        "password": "$${cti_no_login_password}",
        "vm-password": "$${cti_voicemail_pin}",
    }
