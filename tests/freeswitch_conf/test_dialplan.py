"""cti_inbound (context public) and the fallback (context cti): real applications only,
the variables the middleware reads, and the sequence the README and the simulator show."""

from __future__ import annotations

import re

import pytest

from cti import channel_vars
from tests.freeswitch_conf import fsconf

INBOUND_FILE = "dialplan/public/cti_inbound.xml"
CTI_FILE = "dialplan/cti.xml"
DIALPLANS = [fsconf.CONF / INBOUND_FILE, fsconf.CONF / CTI_FILE]

#: Runtime values the README's example sequences show for ${...} and $N.
EXAMPLE_CALL = {
    "destination_number": "5550100",
    "cti_did": "5550100",
    "uuid": "<caller uuid>",
    "caller_id_number": "<number>",
}
API_CALL = re.compile(r"\$\{([a-z_]+)\(")


def _all_steps() -> list[tuple[str, str, str]]:
    """(file, application, data) of every action and anti-action of our dialplans."""
    steps = []
    for path in DIALPLANS:
        for tag in ("action", "anti-action"):
            steps += [
                (fsconf.rel(path), app, data)
                for app, data in fsconf.dialplan_steps(fsconf.parse(path), tag)
            ]
    return steps


def _inbound():
    ext = fsconf.extension(INBOUND_FILE, "cti_inbound")
    did, lease = ext.findall("condition")
    return did, lease


def _fallback():
    ext = fsconf.extension(CTI_FILE, "cti_fallback")
    (condition,) = ext.findall("condition")
    return condition


def _set_variables() -> dict[str, str]:
    """Every variable a multiset or set of our dialplans assigns, with its data."""
    assigned: dict[str, str] = {}
    for _, app, data in _all_steps():
        if app == "multiset":
            assigned.update(fsconf.multiset(data))
        elif app == "set":
            name, _, value = data.partition("=")
            assigned[name] = value
    return assigned


def _render(data: str, capture: str = "") -> str:
    """Application-Data as a CHANNEL_EXECUTE of the README's example call shows it."""
    data = fsconf.expand(data, fsconf.site_vars(domain="<domain>")).replace("$1", capture)
    return re.sub(r"\$\{([a-z_]+)\}", lambda m: EXAMPLE_CALL[m.group(1)], data)


def _lines(steps: list[tuple[str, str]], capture: str = "") -> list[str]:
    return [f"{app} {_render(data, capture)}".rstrip() for app, data in steps]


@pytest.mark.parametrize(("path", "app", "data"), _all_steps())
def test_every_application_is_a_freeswitch_110_application(path, app, data) -> None:
    assert app in fsconf.reference_names("applications"), f"{path}: {app} {data}"


def test_every_api_called_from_the_dialplan_exists() -> None:
    """${api(...)} runs a FreeSWITCH API command while the dialplan is read."""
    text = "".join(fsconf.without_comments(p.read_text(encoding="utf-8")) for p in DIALPLANS)
    assert set(API_CALL.findall(text)) <= fsconf.reference_names("apis")


def test_inbound_marks_the_call_with_the_variables_the_middleware_reads() -> None:
    """cti/channel_vars.py: the dialplan sets DID (the dialled number) and MANAGED."""
    _, lease = _inbound()
    first_app, first_data = fsconf.dialplan_steps(lease)[0]
    assert first_app == "multiset"
    assigned = fsconf.multiset(first_data)
    assert assigned[channel_vars.DID] == "${destination_number}"
    assert assigned[channel_vars.MANAGED] == "true"


def test_every_call_handling_variable_is_a_real_one() -> None:
    """Our own variables start with cti_; the others must be FreeSWITCH's."""
    theirs = {name for name in _set_variables() if not name.startswith("cti_")}
    assert theirs <= fsconf.reference_names("channel_variables")


def test_inbound_sets_what_keeps_callers_out_of_trouble() -> None:
    _, lease = _inbound()
    assigned = fsconf.multiset(fsconf.dialplan_steps(lease)[0][1])
    assert assigned["hangup_after_bridge"] == "true"
    assert assigned["continue_on_fail"] == "true"
    assert assigned["uuid_bridge_continue_on_cancel"] == "true"
    assert assigned["api_before_bridge"] == "sched_del ${uuid}"
    seconds, _, cause = fsconf.expand(assigned["park_timeout"], fsconf.site_vars()).partition(":")
    assert int(seconds) > int(fsconf.site_vars()["cti_park_timeout"]) > 0
    assert cause == "ALLOTTED_TIMEOUT"


def test_inbound_takes_the_site_dids_and_nothing_else() -> None:
    did, _ = _inbound()
    assert did.get("field") == "destination_number"
    assert did.get("expression") == "$${cti_did_regex}"
    assert list(did) == []
    pattern = re.compile(fsconf.site_vars()["cti_did_regex"])
    for number in ("5550100", "5550199", "+15550100", "15550142"):
        assert pattern.search(number), number
    for number in ("1000", "1019", "5900", "5550200", "55501000", "cti_fallback_park_timeout"):
        assert not pattern.search(number), number


def test_lease_condition_parks_only_while_the_middleware_keeps_it() -> None:
    """cond prints one of its two results verbatim; the regex must take exactly the first."""
    _, lease = _inbound()
    match = re.fullmatch(
        r"\$\{cond\(\$\{cti_middleware_up_until\} > \$\{strepoch\(\)\} \?([^:]*):([^)]*)\)\}",
        lease.get("field", ""),
    )
    assert match, lease.get("field")
    when_up, when_down = match.groups()
    expression = lease.get("expression", "")
    assert re.search(expression, when_up)
    assert not re.search(expression, when_down)


def test_inbound_sequence_is_the_one_the_readme_documents() -> None:
    _, lease = _inbound()
    steps = fsconf.dialplan_steps(lease)
    assert [app for app, _ in steps] == ["multiset", "answer", "sched_transfer", "park", "transfer"]
    assert _lines(steps[:4]) == fsconf.readme_block("cti_inbound, middleware up")
    assert _lines(fsconf.dialplan_steps(lease, "anti-action")) == fsconf.readme_block(
        "cti_inbound, middleware down"
    )


def test_a_caller_whose_park_ends_goes_through_cti_inbound_again() -> None:
    _, lease = _inbound()
    app, data = fsconf.dialplan_steps(lease)[-1]
    assert (app, data) == ("transfer", "${cti_did} XML public")


def test_fallback_sequence_is_the_one_the_readme_documents() -> None:
    steps = fsconf.dialplan_steps(_fallback())
    assert [app for app, _ in steps] == ["sched_cancel", "multiset", "log", "bridge", "voicemail"]
    assert _lines(steps, "middleware_down") == fsconf.readme_block(
        "cti_fallback (context cti), after either transfer to it"
    )


def _cti_context_targets() -> list[str]:
    """Destinations of every transfer and sched_transfer into context cti."""
    targets = []
    for _, app, data in _all_steps():
        words = data.split()
        if app == "transfer" and words[1:] == ["XML", "cti"]:
            targets.append(words[0])
        elif app == "sched_transfer" and words[2:] == ["XML", "cti"]:
            targets.append(words[1])
    return targets


def test_every_transfer_into_context_cti_reaches_the_fallback() -> None:
    targets = _cti_context_targets()
    assert sorted(targets) == ["cti_fallback_middleware_down", "cti_fallback_park_timeout"]
    condition = _fallback()
    assert condition.get("field") == "destination_number"
    for target in targets:
        assert re.fullmatch(condition.get("expression", ""), target), target


def test_fallback_rings_existing_phones_then_a_real_voicemail_box() -> None:
    steps = dict(fsconf.dialplan_steps(_fallback()))
    users = fsconf.directory_users()
    dialstring = fsconf.expand(steps["bridge"], fsconf.site_vars())
    domain = fsconf.site_vars()["domain"]
    for leg in dialstring.split(","):
        user, _, leg_domain = leg.removeprefix("user/").partition("@")
        assert leg.startswith("user/") and leg_domain == domain, leg
        assert user in users, leg
    profile, box_domain, box = fsconf.expand(steps["voicemail"], fsconf.site_vars()).split()
    assert (profile, box_domain) == ("default", domain)
    assert box in users
