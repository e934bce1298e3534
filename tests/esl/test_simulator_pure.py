"""The simulator's pure parts: dial strings, the event listener, call states, the
clock, WAV files, the core database view, the dialplan, endpoints and traffic plans."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esl.simulator.arrivals import draw, plan_calls, plan_phones
from esl.simulator.clock import TICK_US, SimClock
from esl.simulator.coredb import CoreDB, channel_row, render, render_count
from esl.simulator.dialplan import (
    CTI_FALLBACK,
    CTI_INBOUND_DOWN,
    CTI_INBOUND_UP,
    LEASE_VARIABLE,
    SITE_DEFAULTS,
    Dialplan,
    lease_valid,
    parse_inline,
    preprocess,
)
from esl.simulator.dialstring import (
    DialStringError,
    parse_app,
    parse_call_url,
    parse_dial_groups,
    parse_endpoint,
    parse_originate,
    parse_variables,
    split_args,
)
from esl.simulator.endpoints import CustomerProfile, Directory, Phone
from esl.simulator.listener import EVENT_NAMES, Listener, event_type
from esl.simulator.media import media_seconds, tone_seconds
from esl.simulator.model import (
    CALLSTATE_TRANSITIONS,
    CallSignal,
    CallState,
    IllegalTransition,
    next_callstate,
)
from esl.simulator.scheduler import runtime_of
from esl.simulator.wav import HEADER_BYTES, RATE, duration, wav_bytes, write_wav

NOW = 1_795_349_000.0


# -- dial strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("a b  c", ["a", "b", "c"]),
    ("originate 'user/1000 x' &park()", ["originate", "user/1000 x", "&park()"]),
    ("", []),
    ("a\\ b", ["a\\ b"]),
])
def test_split_args_follows_switch_separate_string(text: str, expected: list[str]) -> None:
    assert split_args(text) == expected


@pytest.mark.parametrize(("block", "expected"), [
    ("a=1,b=2", {"a": "1", "b": "2"}),
    ("^^:a=1,2:b=3", {"a": "1,2", "b": "3"}),
    ("a=x\\,y,b=", {"a": "x,y", "b": ""}),
    ("novalue,c=3", {"c": "3"}),
])
def test_variable_blocks(block: str, expected: dict[str, str]) -> None:
    assert parse_variables(block) == expected


@pytest.mark.parametrize(("dial", "kind", "target", "extra"), [
    ("user/1000", "user", "1000", {}),
    ("user/1000@example.org", "user", "1000", {"domain": "example.org"}),
    ("loopback/9196/default", "loopback", "9196", {"context": "default"}),
    ("loopback/5900", "loopback", "5900", {"context": "default"}),
    ("sofia/gateway/cti_gateway/+15550123", "gateway", "+15550123", {"gateway": "cti_gateway"}),
    ("sofia/internal/sip:1001@10.0.0.5", "sofia", "1001", {"domain": "10.0.0.5", "profile": "internal"}),
    ("error/user_busy", "error", "user_busy", {}),
])
def test_endpoints(dial: str, kind: str, target: str, extra: dict[str, str]) -> None:
    endpoint = parse_endpoint(dial)
    assert (endpoint.kind, endpoint.target) == (kind, target)
    for name, value in extra.items():
        assert getattr(endpoint, name) == value


@pytest.mark.parametrize(("dial", "cause"), [
    ("", "DESTINATION_OUT_OF_ORDER"),
    ("sofia/gateway/onlygw", "INVALID_GATEWAY"),
    ("freetdm/1/a/123", "CHAN_NOT_IMPLEMENTED"),
])
def test_bad_endpoints_fail_with_the_switch_cause(dial: str, cause: str) -> None:
    with pytest.raises(DialStringError) as error:
        parse_endpoint(dial)
    assert error.value.cause == cause


def test_dial_groups_ring_together_and_fail_over() -> None:
    groups = parse_dial_groups("{a=1,b=2}[c=3,a=9]user/1000,user/1001|sofia/gateway/gw/555")
    assert [[t.dial for t in group] for group in groups] == [["user/1000", "user/1001"], ["sofia/gateway/gw/555"]]
    assert groups[0][0].variables == {"a": "9", "b": "2", "c": "3"}
    assert groups[0][1].variables == {"a": "1", "b": "2"}


def test_commas_inside_variable_blocks_do_not_split_legs() -> None:
    groups = parse_dial_groups("{x=1,y=2}[p=1,q=2]user/1000")
    assert len(groups) == 1 and len(groups[0]) == 1


def test_single_leg_parsing_refuses_forks_and_enterprise() -> None:
    with pytest.raises(DialStringError) as fork:
        parse_call_url("user/1000,user/1001")
    assert fork.value.cause == "CHAN_NOT_IMPLEMENTED"
    with pytest.raises(DialStringError) as enterprise:
        parse_dial_groups("user/1000:_:user/1001")
    assert enterprise.value.cause == "CHAN_NOT_IMPLEMENTED"


def test_app_arguments_end_at_the_first_parenthesis() -> None:
    """Capture i: the real switch plays ``tone_stream://%(2000,4000,440,480``."""
    assert parse_app("&playback(tone_stream://%(2000,4000,440,480);loops=-1)") == (
        "playback", "tone_stream://%(2000,4000,440,480")
    assert parse_app("&park()") == ("park", "")
    assert parse_app("&park") == ("park", "")


def test_originate_positional_arguments() -> None:
    request = parse_originate(
        "{origination_uuid=u1,originate_timeout=20}user/1000 5900 XML public 'Agent One' 1000 30")
    assert request.groups[0][0].endpoint.target == "1000"
    assert request.variables == {"origination_uuid": "u1", "originate_timeout": "20"}
    assert (request.exten, request.dialplan, request.context) == ("5900", "XML", "public")
    assert (request.cid_name, request.cid_num, request.timeout) == ("Agent One", "1000", 30)
    assert parse_originate("user/1000 &park undef undef").context == "default"


@pytest.mark.parametrize("argument", ["", "user/1000", "a b c d e f g h"])
def test_originate_usage_errors_have_no_cause(argument: str) -> None:
    with pytest.raises(DialStringError) as error:
        parse_originate(argument)
    assert error.value.cause == ""


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                       st.from_regex(r"[A-Za-z0-9_.+@-]{0,8}", fullmatch=True), max_size=5))
def test_variables_round_trip(variables: dict[str, str]) -> None:
    block = ",".join(f"{k}={v}" for k, v in variables.items())
    url = "{" + block + "}user/1000" if variables else "user/1000"
    parsed, _, endpoint = parse_call_url(url)
    assert parsed == variables
    assert endpoint.target == "1000"


# -- listener -------------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "name"), [
    ("channel_create", "CHANNEL_CREATE"), ("SWITCH_EVENT_CHANNEL_ANSWER", "CHANNEL_ANSWER"),
    ("all", "ALL"), ("custom", "CUSTOM"), ("nonsense", None),
])
def test_event_names(word: str, name: str | None) -> None:
    assert event_type(word) == name


def test_event_subscription_replies_and_delivery() -> None:
    listener = Listener()
    assert listener.wants({"Event-Name": "CHANNEL_CREATE"}) is False
    assert listener.event("json CHANNEL_CREATE CUSTOM avmd::beep") == "+OK event listener enabled json"
    assert listener.wants({"Event-Name": "CHANNEL_CREATE"})
    assert not listener.wants({"Event-Name": "CHANNEL_ANSWER"})
    assert listener.wants({"Event-Name": "CUSTOM", "Event-Subclass": "avmd::beep"})
    assert not listener.wants({"Event-Name": "CUSTOM", "Event-Subclass": "vm::maintenance"})
    assert listener.event("plain bogus") == "-ERR no keywords supplied"
    assert listener.nixevent("CHANNEL_CREATE") == "+OK events nixed"
    assert not listener.wants({"Event-Name": "CHANNEL_CREATE"})
    assert listener.noevents() == "+OK no longer listening for events"
    assert listener.noevents() == "-ERR not listening for events"


def test_nixevent_after_all_keeps_the_rest() -> None:
    listener = Listener()
    listener.event("plain ALL")
    listener.nixevent("HEARTBEAT")
    assert not listener.wants({"Event-Name": "HEARTBEAT"})
    assert listener.wants({"Event-Name": "CHANNEL_PARK"})


def test_filters_select_by_header() -> None:
    listener = Listener()
    listener.event("plain ALL")
    assert listener.filter("Unique-ID abc") == "+OK filter added. [Unique-ID]=[abc]"
    assert listener.wants({"Event-Name": "CHANNEL_PARK", "Unique-ID": "abc"})
    assert not listener.wants({"Event-Name": "CHANNEL_PARK", "Unique-ID": "other"})
    assert not listener.wants({"Event-Name": "HEARTBEAT"})
    assert listener.filter("delete Unique-ID abc") == "+OK filter deleted. [Unique-ID][abc]"
    assert listener.wants({"Event-Name": "HEARTBEAT"})
    assert listener.filter("") == "-ERR invalid syntax"


def test_regex_and_negative_filters() -> None:
    listener = Listener()
    listener.event("plain ALL")
    listener.filter("Event-Name /^CHANNEL_/")
    listener.filter("Event-Name -CHANNEL_STATE")
    assert listener.wants({"Event-Name": "CHANNEL_ANSWER"})
    assert not listener.wants({"Event-Name": "CHANNEL_STATE"})
    assert not listener.wants({"Event-Name": "HEARTBEAT"})


def test_myevents_follows_one_channel() -> None:
    listener = Listener()
    assert listener.myevents("u1", "json") == "+OK Events Enabled"
    assert listener.wants({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "u1"})
    assert not listener.wants({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "u2"})
    assert listener.myevents("u2", "json") == "-ERR aready enabled."


PLAIN_NAMES = sorted(set(EVENT_NAMES) - {"ALL", "CUSTOM"})


@given(st.lists(st.sampled_from(PLAIN_NAMES), min_size=1, max_size=6))
def test_subscribed_names_are_exactly_delivered(names: list[str]) -> None:
    listener = Listener()
    listener.event("json " + " ".join(names))
    for name in PLAIN_NAMES:
        assert listener.wants({"Event-Name": name}) == (name in names)


# -- call states ----------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "signal", "expected"), list(
    (s, sig, CALLSTATE_TRANSITIONS[(s, sig)]) for s, sig in CALLSTATE_TRANSITIONS))
def test_callstate_table(state: CallState, signal: CallSignal, expected: CallState) -> None:
    assert next_callstate(state, signal) is expected


@pytest.mark.parametrize(("state", "signal"), [
    (CallState.HANGUP, CallSignal.ANSWER), (CallState.RINGING, CallSignal.HOLD),
    (CallState.ACTIVE, CallSignal.RING), (CallState.HANGUP, CallSignal.HANGUP),
])
def test_illegal_callstate_transitions_raise(state: CallState, signal: CallSignal) -> None:
    with pytest.raises(IllegalTransition):
        next_callstate(state, signal)


@given(st.lists(st.sampled_from(list(CallSignal)), max_size=12))
def test_callstates_only_move_through_the_table(signals: list[CallSignal]) -> None:
    state = CallState.DOWN
    for signal in signals:
        try:
            new = next_callstate(state, signal)
        except IllegalTransition:
            assert (state, signal) not in CALLSTATE_TRANSITIONS
            continue
        assert state is not CallState.HANGUP
        state = new


# -- clock ----------------------------------------------------------------------------------


def test_clock_scales_and_ticks_every_20ms() -> None:
    now = [100.0]
    clock = SimClock(speed=10, seed=1, monotonic=lambda: now[0], wall=lambda: NOW)
    first = clock.now_us()
    now[0] += 0.5
    assert clock.elapsed() == pytest.approx(5.0)
    assert clock.real_delay(5.0) == pytest.approx(0.5)
    assert clock.real_delay(-1) == 0
    later = clock.now_us()
    assert 5_000_000 - TICK_US < later - first < 5_000_000 + TICK_US
    assert (later - int(NOW * 1_000_000)) // TICK_US == 250


def test_clock_refuses_a_bad_speed() -> None:
    with pytest.raises(ValueError):
        SimClock(speed=0)


@given(st.lists(st.floats(min_value=0, max_value=5), min_size=2, max_size=20))
def test_timestamps_never_go_back(steps: list[float]) -> None:
    now = [0.0]
    clock = SimClock(speed=3, seed=2, monotonic=lambda: now[0], wall=lambda: NOW)
    last = clock.now_us()
    for step in steps:
        now[0] += step
        stamp = clock.now_us()
        assert stamp >= last
        last = stamp


# -- WAV ------------------------------------------------------------------------------------


def test_wav_files_are_valid_pcm(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "rec.wav"
    size = write_wav(str(path), [(RATE, False), (RATE // 2, True)])
    data = path.read_bytes()
    assert size == len(data) == HEADER_BYTES + 2 * (RATE + RATE // 2)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert struct.unpack("<HHII", data[20:32]) == (1, 1, RATE, RATE * 2)
    assert duration(str(path)) == pytest.approx(1.5)
    assert set(data[HEADER_BYTES + RATE * 2:]) == {0}
    assert duration(str(tmp_path / "missing.wav")) is None


@given(st.lists(st.tuples(st.integers(0, 4000), st.booleans()), max_size=5))
def test_wav_length_matches_samples(segments: list[tuple[int, bool]]) -> None:
    assert len(wav_bytes(segments)) == HEADER_BYTES + 2 * sum(n for n, _ in segments)


@pytest.mark.parametrize(("path", "seconds"), [
    ("tone_stream://%(2000,4000,440,480", 6.0),
    ("tone_stream://%(2000,4000,440,480);loops=-1", None),
    ("tone_stream://%(100,0,800);loops=3", 0.3),
    ("tone_stream://L=2;%(100,100,350,440)", 0.4),
    ("silence_stream://1500", 1.5),
    ("silence_stream://-1", None),
    ("local_stream://moh", None),
    ("ivr/ivr-welcome.wav", 2.0),
])
def test_media_lengths(path: str, seconds: float | None) -> None:
    assert media_seconds(path) == (pytest.approx(seconds) if seconds is not None else None)


def test_a_tone_script_without_tones_counts_as_a_prompt() -> None:
    assert tone_seconds("v=-7") == 2.0


# -- core database view ---------------------------------------------------------------------


def test_core_db_changes_show_only_after_a_flush() -> None:
    db = CoreDB()
    db.queue_row(channel_row({"uuid": "a", "created_epoch": "1", "name": "sofia/x"}))
    assert db.channels() == []
    db.flush()
    assert [r["uuid"] for r in db.channels()] == ["a"]
    db.queue_row(channel_row({"uuid": "b", "created_epoch": "2"}))
    db.queue_call("a", "b", "3")
    db.flush()
    calls = db.basic_calls()
    assert len(calls) == 1 and calls[0]["b_uuid"] == "b" and calls[0]["call_created_epoch"] == "3"
    db.queue_delete("a")
    assert len(db.channels()) == 2
    db.flush()
    assert [r["uuid"] for r in db.channels()] == ["b"]


def test_show_renderings() -> None:
    assert render([], "json") == '{"row_count": 0}\n'
    assert render([], "delim") == "\n0 total.\n"
    assert render([{"uuid": "a", "name": "x"}], "delim") == "uuid,name\na,x\n\n1 total.\n"
    assert render([{"uuid": "a"}], "json") == '{"row_count":1,"rows":[{"uuid":"a"}]}'
    assert render_count(3) == "\n3 total.\n"


# -- dialplan -------------------------------------------------------------------------------

SITE = {**SITE_DEFAULTS, "domain": "10.0.0.1", "cti_did_regex": r"^\+?1?55501[0-9]{2}$"}
SITE["cti_fallback_dialstring"] = preprocess(SITE["cti_fallback_dialstring"], SITE)


def test_cti_inbound_parks_while_the_lease_holds() -> None:
    actions = Dialplan(vanilla=False).route("public", "5550100", {**SITE, LEASE_VARIABLE: str(NOW + 30)}, NOW)
    assert [a.app for a in actions or ()] == [a.app for a in CTI_INBOUND_UP]
    assert actions is not None
    assert "park_timeout=3600:ALLOTTED_TIMEOUT" in actions[0].data
    assert actions[2].data == "+600 cti_fallback_park_timeout XML cti"
    assert "${uuid}" in actions[0].data and "${destination_number}" in actions[0].data


@pytest.mark.parametrize("lease", [None, "0", str(NOW - 1), str(int(NOW))])
def test_cti_inbound_sends_to_the_fallback_without_a_valid_lease(lease: str | None) -> None:
    variables = dict(SITE)
    if lease is not None:
        variables[LEASE_VARIABLE] = lease
    assert Dialplan(vanilla=False).route("public", "+15550150", variables, NOW) == CTI_INBOUND_DOWN


def test_vanilla_public_runs_outside_call_first_and_sends_10xx_to_default() -> None:
    dialplan = Dialplan(vanilla=True)
    actions = dialplan.route("public", "5550100", {**SITE, LEASE_VARIABLE: "4102444800"}, NOW)
    assert actions is not None
    assert [a.app for a in actions[:2]] == ["set", "export"]
    assert actions[1].data.startswith("RFC2822_DATE=")
    assert dialplan.route("public", "1005", SITE, NOW)[-1].data == "1005 XML default"  # type: ignore[index]
    assert dialplan.route("public", "5900", SITE, NOW)[0].app == "answer"  # type: ignore[index]
    assert dialplan.route("public", "9999", SITE, NOW) is None


def test_fallback_fills_in_the_reason_and_site_values() -> None:
    actions = Dialplan().route("cti", "cti_fallback_park_timeout", SITE, NOW)
    assert actions is not None and [a.app for a in actions] == [a.app for a in CTI_FALLBACK]
    assert "cti_fallback_reason=park_timeout" in actions[1].data
    assert "call_timeout=30" in actions[1].data
    assert actions[3].data.startswith("user/1000@10.0.0.1,user/1001@10.0.0.1")
    assert actions[4].data == "default 10.0.0.1 1999"
    assert Dialplan().route("cti", "anything", SITE, NOW) is None


def test_default_context() -> None:
    dialplan = Dialplan(vanilla=True)
    actions = dialplan.route("default", "1001", SITE, NOW)
    assert actions is not None and [a.app for a in actions][-2:] == ["set", "bridge"]
    assert [a.app for a in actions].count("log") == 4
    assert Dialplan(vanilla=False).route("default", "9196", SITE, NOW) == tuple(
        parse_inline("answer,echo"))
    assert dialplan.route("nowhere", "1", SITE, NOW) is None


@pytest.mark.parametrize(("value", "up"), [("", False), ("abc", True), ("1795349000.5", True), ("9", False)])
def test_lease_compares_like_cond(value: str, up: bool) -> None:
    assert lease_valid({LEASE_VARIABLE: value}, NOW) is up


def test_inline_dialplan() -> None:
    assert [(a.app, a.data) for a in parse_inline("answer,playback:/x.wav,park")] == [
        ("answer", ""), ("playback", "/x.wav"), ("park", "")]


# -- endpoints and plans ----------------------------------------------------------------------


def test_directory_lookup_causes() -> None:
    directory = Directory(["1000", "1001"])
    directory.register("1000")
    assert isinstance(directory.lookup("1000"), Phone)
    assert directory.lookup("1001") == "USER_NOT_REGISTERED"
    assert directory.lookup("2000") == "SUBSCRIBER_ABSENT"
    directory.unregister("1000")
    assert directory.lookup("1000") == "USER_NOT_REGISTERED"
    with pytest.raises(ValueError):
        directory.register("10 00")
    with pytest.raises(ValueError):
        directory.register("1000", behaviour="maybe")


def test_customer_outcomes() -> None:
    profile = CustomerProfile(scripted={"+15550001": "machine"})
    rng = random.Random(1)
    assert profile.outcome(rng, "+15550001").kind == "machine"
    assert profile.outcome(rng, "12").kind == "invalid"
    kinds = [profile.outcome(rng, f"+1555000{i:04d}").kind for i in range(400)]
    assert set(kinds) <= {"human", "machine", "busy", "no_answer"}
    assert kinds.count("human") > kinds.count("machine") > 0
    assert CustomerProfile(answer_probability=0, busy_probability=0).outcome(rng, "+15550002").kind == "no_answer"


def test_call_plans_are_reproducible_poisson() -> None:
    first = plan_calls(random.Random(5), rate_per_second=2.0, dids=["5550100", "5550101"],
                       patience=30.0, talk_time=(10.0, 20.0), dtmf_script=["1"])
    calls = [next(first) for _ in range(2000)]
    again = plan_calls(random.Random(5), rate_per_second=2.0, dids=["5550100", "5550101"],
                       patience=30.0, talk_time=(10.0, 20.0), dtmf_script=["1"])
    assert [next(again) for _ in range(5)] == calls[:5]
    mean_gap = sum(c.gap for c in calls) / len(calls)
    assert 0.45 < mean_gap < 0.55
    assert {c.did for c in calls} == {"5550100", "5550101"}
    assert all(c.behaviour.patience == 30.0 and 10 <= (c.behaviour.talk_time or 0) <= 20 for c in calls)
    assert all(c.caller_number.startswith("+1555") and len(c.caller_number) == 12 for c in calls)


@pytest.mark.parametrize("kwargs", [{"rate_per_second": 0, "dids": ["1"]}, {"rate_per_second": 1, "dids": []}])
def test_call_plans_refuse_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        next(plan_calls(random.Random(1), **kwargs))  # type: ignore[arg-type]


def test_durations() -> None:
    rng = random.Random(1)
    assert draw(rng, None) is None
    assert draw(rng, 3) == 3.0
    assert 1 <= (draw(rng, (1.0, 2.0)) or 0) <= 2
    for bad in (-1.0, (2.0, 1.0), (-1.0, 1.0)):
        with pytest.raises(ValueError):
            draw(rng, bad)


def test_phone_population_shares() -> None:
    phones = plan_phones(random.Random(3), [str(n) for n in range(2000, 2400)],
                         no_answer_share=0.25, busy_share=0.25)
    behaviours = [p.behaviour for p in phones]
    assert 60 < behaviours.count("no_answer") < 140 and 60 < behaviours.count("busy") < 140
    assert all(0.5 <= (p.answer_after or 0) <= 3.0 for p in phones if p.behaviour == "answer")
    with pytest.raises(ValueError):
        plan_phones(random.Random(1), ["1"], no_answer_share=0.8, busy_share=0.3)


@pytest.mark.parametrize(("spec", "expected"), [("+600", NOW + 600), ("1795349100", 1795349100),
                                                ("+5s", NOW + 5), ("", 0)])
def test_schedule_times(spec: str, expected: float) -> None:
    assert runtime_of(spec, int(NOW)) == int(expected)
