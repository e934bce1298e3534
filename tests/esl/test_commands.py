"""Command builders: they reproduce the commands of the real captures, refuse every
injection, and what they build parses back (the way the switch splits it) to exactly
the variables, target and application that were asked for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esl import commands as c
from esl.protocol import CommandArgumentError
from tests.captures import capture_commands

CALLER = "97511e48-b3d4-4e10-9b51-71f8be74f0a2"
AGENT = "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7"


def sent(scenario: str) -> list[str]:
    """Captured api/bgapi command texts (without the api / bgapi word)."""
    return [line.split(" ", 1)[1] for line in capture_commands(scenario) if line.startswith(("api ", "bgapi "))]


# --- golden: the builders produce what the capture client sent to the real switch ----


def test_scenario_b_commands() -> None:
    assert sent("b_park_moh_originate_bridge") == [
        c.uuid_broadcast(CALLER, "local_stream://moh", leg="aleg"),
        c.originate(c.user("1001"), uuid=AGENT, variables={"ignore_early_media": "true"}, app=c.park()),
        c.uuid_bridge(CALLER, AGENT),
    ]


def test_scenario_c_commands() -> None:
    built = [
        c.originate(c.user("1019"), uuid="2d1bee32-bec4-437d-8953-86c4fa70bedf", timeout=5,
                    variables={"ignore_early_media": "true"}, app=c.park()),
        c.originate(c.user("1018"), uuid="80d3b9b9-585b-4276-ba39-c1cd97af3060", timeout=5, app=c.park()),
        c.originate(c.user("1099"), uuid="c0ffce93-bcc3-4fc3-a1fc-dc3ab7cf34ce", timeout=5, app=c.park()),
    ]
    assert sent("c_agent_no_answer")[:3] == built


def test_scenarios_d_e_g_i_commands() -> None:
    assert sent("d_dtmf_rfc2833") == [c.uuid_send_dtmf("2acbe710-f2c4-4f97-943c-192799bebd90", "9")]
    rec = "aa267b14-5b3f-48b4-af9e-d4e6999af4b4"
    assert sent("e_record") == [c.uuid_record(rec, "start", "/tmp/rec.wav"), c.uuid_record(rec, "stop", "/tmp/rec.wav")]
    g = sent("g_state_snapshot_commands")
    assert g[2:4] == [c.show_channels(), c.show_calls()]
    assert c.uuid_dump("e065745f-ffa3-438b-948a-b9ce6a0afff8") in g
    cust = "d06dbc55-74c2-4a4f-b584-7e359c652750"
    assert sent("i_outbound_loopback_transfer_park") == [
        c.originate(c.loopback("9196", "default"), uuid=cust,
                    variables={"ignore_early_media": "true", "origination_caller_id_number": "5550100"},
                    app=c.AppCall("playback", "tone_stream://%(2000,4000,440,480);loops=-1")),
        c.uuid_transfer_inline(cust, [c.park()]),
        c.uuid_getvar(cust, "other_loopback_leg_uuid"),
        c.uuid_kill(cust, "NORMAL_CLEARING"),
    ]


def test_scenario_f_supervisor_commands() -> None:
    target = "d8347442-418f-4e6b-bf6e-e7596b652d00"
    f = sent("f_supervisor_eavesdrop_whisper_barge")
    assert f[2] == c.originate(c.user("1002"), uuid="2be4a9e1-7171-460d-927d-bd9b70b595bd", app=c.eavesdrop(target))
    assert f[3] == c.uuid_kill("2be4a9e1-7171-460d-927d-bd9b70b595bd", cause=None)
    assert f[4] == c.originate(c.user("1003"), uuid="f7dc54d7-3db0-4d26-8d16-fc31d65091b5",
                               variables=c.EAVESDROP_VARIABLES["whisper"], app=c.eavesdrop(target))
    assert f[6] == c.originate(c.user("1004"), uuid="dd75aecc-29db-4104-a583-a63ad2ede8e7", app=c.three_way(target))
    assert f[8] == c.originate(c.user("1005"), uuid="435f2e0c-c8f5-4709-8fa2-43258215da6d",
                               variables=c.EAVESDROP_VARIABLES["barge"], app=c.eavesdrop(target))


# --- table of the other builders ------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (c.originate(c.gateway("trunk1", "+15551234"), uuid=AGENT, extension="5900", context="public"),
         f"originate {{origination_uuid={AGENT}}}sofia/gateway/trunk1/+15551234 5900 XML public"),
        (c.originate(c.user("1001", "example.com"), uuid=AGENT, app=c.park(),
                     variables={"origination_caller_id_name": "Doe, John", "cti_queue": "sales"}),
         f"originate {{origination_uuid={AGENT},origination_caller_id_name='Doe\\, John',cti_queue=sales}}"
         "user/1001@example.com &park()"),
        (c.uuid_transfer(CALLER, "5900", context="public", leg="both"), f"uuid_transfer {CALLER} -both 5900 XML public"),
        (c.uuid_transfer(CALLER, "1001", leg="bleg"), f"uuid_transfer {CALLER} -bleg 1001 XML default"),
        (c.uuid_transfer_inline(CALLER, [c.set_var("hangup_after_bridge", "false"), c.park()], leg="both"),
         f"uuid_transfer {CALLER} -both set:hangup_after_bridge=false,park inline"),
        (c.uuid_kill(CALLER, "USER_BUSY"), f"uuid_kill {CALLER} USER_BUSY"),
        (c.uuid_broadcast(CALLER, "/sounds/hold.wav", leg="both"), f"uuid_broadcast {CALLER} /sounds/hold.wav both"),
        (c.uuid_break(CALLER), f"uuid_break {CALLER}"),
        (c.uuid_break(CALLER, all_queued=True), f"uuid_break {CALLER} all"),
        (c.uuid_record(CALLER, "start", "/rec/a.wav", limit_seconds=3600), f"uuid_record {CALLER} start /rec/a.wav 3600"),
        (c.uuid_record(CALLER, "mask", "/rec/a.wav"), f"uuid_record {CALLER} mask /rec/a.wav"),
        (c.uuid_record(CALLER, "unmask", "/rec/a.wav"), f"uuid_record {CALLER} unmask /rec/a.wav"),
        (c.uuid_record(CALLER, "stop", "all"), f"uuid_record {CALLER} stop all"),
        (c.uuid_hold(CALLER), f"uuid_hold {CALLER}"),
        (c.uuid_hold(CALLER, "off"), f"uuid_hold off {CALLER}"),
        (c.uuid_hold(CALLER, "toggle"), f"uuid_hold toggle {CALLER}"),
        (c.uuid_setvar(CALLER, "cti_role", "customer"), f"uuid_setvar {CALLER} cti_role customer"),
        (c.uuid_setvar(CALLER, "cti_note", "two words"), f"uuid_setvar {CALLER} cti_note two words"),
        (c.uuid_setvar(CALLER, "cti_note", ""), f"uuid_setvar {CALLER} cti_note"),
        (c.uuid_send_dtmf(CALLER, "12#", duration_ms=200), f"uuid_send_dtmf {CALLER} 12#@200"),
        (c.uuid_exists(CALLER), f"uuid_exists {CALLER}"),
    ],
)
def test_api_builders(built: str, expected: str) -> None:
    assert built == expected


@pytest.mark.parametrize(
    ("call", "app", "arg"),
    [
        (c.answer(), "answer", ""),
        (c.park(), "park", ""),
        (c.hangup("NO_ANSWER"), "hangup", "NO_ANSWER"),
        (c.set_var("cti_role", "agent"), "set", "cti_role=agent"),
        (c.playback("/sounds/welcome.wav"), "playback", "/sounds/welcome.wav"),
        (c.record("/rec/vm.wav", limit_seconds=120, silence_threshold=200, silence_hits=3), "record",
         "/rec/vm.wav 120 200 3"),
        (c.record("/rec/vm.wav"), "record", "/rec/vm.wav"),
        (c.say("12345", say_type="TELEPHONE_NUMBER", method="ITERATED"), "say",
         "en TELEPHONE_NUMBER ITERATED 12345"),
        (c.say("42", module="en:us", gender="FEMININE"), "say", "en:us NUMBER PRONOUNCED FEMININE 42"),
        (c.play_and_get_digits(min_digits=1, max_digits=4, tries=3, timeout_ms=5000, prompt="/ivr/menu.wav",
                               invalid_prompt="silence_stream://250", variable="cti_digits",
                               digits_regex="\\d+", digit_timeout_ms=2000), "play_and_get_digits",
         "1 4 3 5000 # /ivr/menu.wav silence_stream://250 cti_digits \\d+ 2000"),
        (c.eavesdrop(CALLER), "eavesdrop", CALLER),
        (c.three_way(CALLER), "three_way", CALLER),
        (c.intercept(CALLER), "intercept", CALLER),
        (c.intercept(CALLER, bleg=True), "intercept", f"-bleg {CALLER}"),
    ],
)
def test_application_builders(call: c.AppCall, app: str, arg: str) -> None:
    assert (call.app, call.arg) == (app, arg)


# --- injection attempts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: c.uuid_kill(CALLER + " \napi hupall"),
        lambda: c.uuid_kill("not-a-uuid"),
        lambda: c.uuid_kill(CALLER, "NORMAL_CLEARING\n\napi hupall"),
        lambda: c.uuid_kill(CALLER, "MADE_UP"),
        lambda: c.uuid_bridge(CALLER, f"{AGENT} extra"),
        lambda: c.uuid_setvar(CALLER, "a b", "x"),
        lambda: c.uuid_setvar(CALLER, "x", "${system rm -rf /}"),
        lambda: c.uuid_setvar(CALLER, "x", "line\nnext"),
        lambda: c.uuid_getvar(CALLER, "x}"),
        lambda: c.user("1001 &bridge(sofia/gateway/x/900)"),
        lambda: c.user("1001,user/1002"),
        lambda: c.user("1001|sofia/gateway/x/1"),
        lambda: c.user("{x=y}1001"),
        lambda: c.gateway("trunk", "900;evil"),
        lambda: c.gateway("trunk/../x", "123"),
        lambda: c.Endpoint("sofia/internal/x@evil.com"),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x": "a}user/9 &park("}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x": "[a=b]"}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x": "'quoted'"}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x": "back\\slash"}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x": "$${hostname}"}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"x=y": "1"}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, variables={"origination_uuid": CALLER}, app=c.park()),
        lambda: c.originate(c.user("1001"), uuid=AGENT, app=c.AppCall("park) &bridge(", "")),
        lambda: c.originate(c.user("1001"), uuid=AGENT, app=c.AppCall("playback", "a b")),
        lambda: c.originate(c.user("1001"), uuid=AGENT),
        lambda: c.originate(c.user("1001"), uuid=AGENT, app=c.park(), extension="5900"),
        lambda: c.originate(c.user("1001"), uuid=AGENT, app=c.park(), timeout=0),
        lambda: c.originate("user/1001", uuid=AGENT, app=c.park()),  # type: ignore[arg-type]
        lambda: c.uuid_transfer(CALLER, "5900 XML default"),
        lambda: c.uuid_transfer(CALLER, "5900", leg="cleg"),  # type: ignore[arg-type]
        lambda: c.uuid_transfer_inline(CALLER, [c.AppCall("set", "a=1,hangup")]),
        lambda: c.uuid_transfer_inline(CALLER, []),
        lambda: c.uuid_broadcast(CALLER, "/a b.wav"),
        lambda: c.uuid_broadcast(CALLER, "/a.wav", leg="all"),  # type: ignore[arg-type]
        lambda: c.uuid_record(CALLER, "start", "relative.wav"),
        lambda: c.uuid_record(CALLER, "start", "/rec/../../etc/passwd"),
        lambda: c.uuid_record(CALLER, "start", "/rec/a.wav; rm"),
        lambda: c.uuid_record(CALLER, "stop", "/rec/a.wav", limit_seconds=5),
        lambda: c.uuid_record(CALLER, "pause", "/rec/a.wav"),  # type: ignore[arg-type]
        lambda: c.uuid_hold(CALLER, "maybe"),  # type: ignore[arg-type]
        lambda: c.uuid_send_dtmf(CALLER, "12 api"),
        lambda: c.uuid_send_dtmf(CALLER, "1", duration_ms=-1),
        lambda: c.set_var("x", "${sh(rm)}"),
        lambda: c.hangup("BOGUS"),
        lambda: c.playback("/a.wav\nexecute-app-name: hangup"),
        lambda: c.record("/rec/a.wav", silence_hits=3),
        lambda: c.say("12", say_type="SHOUT"),
        lambda: c.say("   "),
        lambda: c.say("1{x}"),
        lambda: c.play_and_get_digits(min_digits=4, max_digits=2, tries=1, timeout_ms=1, prompt="/a.wav",
                                      invalid_prompt="/b.wav", variable="d", digits_regex="\\d+"),
        lambda: c.play_and_get_digits(min_digits=1, max_digits=2, tries=1, timeout_ms=1, prompt="/a.wav",
                                      invalid_prompt="/b.wav", variable="d", digits_regex="\\d+ x"),
        lambda: c.eavesdrop("all"),
        lambda: c.intercept("1001"),
    ],
)
def test_injection_and_bad_arguments_are_refused(build: object) -> None:
    with pytest.raises(CommandArgumentError) as err:
        build()  # type: ignore[operator]
    assert ": " in str(err.value)  # every message names the argument, then what to change


# --- a model of how the switch splits an originate (switch_utils.c) --------------------


def _cleanup(token: str, delim: str) -> str:
    """cleanup_separated_string: strip leading spaces, quotes and escapes."""
    out: list[str] = []
    end = 0
    inside = False
    i = 0
    while i < len(token) and token[i] == " ":
        i += 1
    while i < len(token):
        ch = token[i]
        if ch == "\\" and i + 1 < len(token):
            nxt = token[i + 1]
            table = {"n": "\n", "r": "\r", "t": "\t", "s": " "}
            if nxt in ("'", '"', "\\") or (delim and nxt == delim) or nxt in table:
                out.append(table.get(nxt, nxt))
                end = len(out)
                i += 2
                continue
        if ch == "'" and (inside or "'" in token[i + 1 :]):
            inside = not inside
            if inside:
                end = len(out)
        else:
            out.append(ch)
            if ch != " " or inside:
                end = len(out)
        i += 1
    return "".join(out[:end])


def _split(text: str, delim: str, limit: int = 100) -> list[str]:
    """separate_string_char_delim / separate_string_blank_delim (quotes and escapes)."""
    parts: list[str] = []
    current: list[str] = []
    inside = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current += [ch, text[i + 1]]
            i += 2
            continue
        if ch == "'" and (inside or delim == " " or "'" in text[i + 1 :]):
            inside = not inside
        elif ch == delim and not inside and len(parts) < limit - 1:
            parts.append("".join(current))
            current = []
            i += 1
            while delim == " " and i < len(text) and text[i] == " ":
                i += 1
            continue
        current.append(ch)
        i += 1
    if current:
        parts.append("".join(current))
    return [_cleanup(p, "" if delim == " " else delim) for p in parts]


def switch_parses_originate(command: str) -> tuple[dict[str, str], str, str]:
    argv = _split(command, " ")
    assert argv[0] == "originate"
    leg = argv[1]
    assert leg.startswith("{")
    block, target = leg[1:].split("}", 1)
    variables = dict(_split(item, "=", limit=2) for item in _split(block, ","))  # type: ignore[misc]
    return variables, target, " ".join(argv[2:])


free_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(
    lambda n: n not in ("origination_uuid", "originate_timeout")), free_text, max_size=5), free_text)
def test_variables_reach_the_switch_exactly_or_are_refused(variables: dict[str, str], name: str) -> None:
    variables = {**variables, "origination_caller_id_name": name}
    try:
        command = c.originate(c.user("1001"), uuid=AGENT, variables=variables, app=c.park())
    except CommandArgumentError:
        return
    parsed, target, rest = switch_parses_originate(command)
    assert parsed == {"origination_uuid": AGENT, **{k: v.strip() for k, v in variables.items()}}
    assert target == "user/1001" and rest == "&park()"


@settings(max_examples=300, deadline=None)
@given(free_text)
def test_refused_text_is_exactly_the_dangerous_text(text: str) -> None:
    dangerous = "${" in text or any(ch in "{}[]<>^'\"\\`" for ch in text)
    try:
        c.check_text(text, "x")
    except CommandArgumentError:
        assert dangerous
    else:
        assert not dangerous
