"""IVR walks through the sample flows, step by step."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from routing.calendars import DAYS, parse_calendar
from routing.callers import CallerClass
from routing.errors import IvrStateError
from routing.flows import Flow, load_flow_yaml
from routing.ivr import (
    BEEP,
    CallContext,
    CallerHungUp,
    CallerShortcut,
    DigitsEntered,
    HttpResponse,
    Phase,
    PlaybackFinished,
    RecordingFinished,
    Step,
    resume,
    start,
)
from routing.steps import (
    CallerGone,
    Enqueue,
    Execute,
    HangupCall,
    HttpLookup,
    LeaveVoicemail,
    Transfer,
)
from tests.routing.sample_flows import MAIN, SMALL

FLOW = load_flow_yaml(MAIN)
SMALL_FLOW = load_flow_yaml(SMALL)
OPEN = parse_calendar("office", {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in DAYS}})
CLOSED = parse_calendar("office", {"timezone": "UTC"})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()  # a Monday


def context(**changes: Any) -> CallContext:
    base = CallContext(
        interaction_id="7f7e5a4e-0000-4000-8000-000000000001",
        caller_number="+15550123",
        started_at=T0,
        did="+18005550100",
        calendars={"office": OPEN},
        voicemail_dir="/var/lib/cti/voicemail",
    )
    return replace(base, **changes)


def pagd_files(step: Step) -> str:
    assert isinstance(step.action, Execute) and step.action.app == "play_and_get_digits", step.action
    return step.action.args.split(" ")[5]


def walk_to_menu(flow: Flow = FLOW, ctx: CallContext | None = None, language_key: str = "1") -> Step:
    step = start(flow, ctx or context())
    assert step.action == Execute("playback", "welcome.wav")
    step = resume(flow, step.state, PlaybackFinished(T0 + 3))
    assert pagd_files(step) == "choose_language.wav"
    return resume(flow, step.state, DigitsEntered(language_key, T0 + 5))


def kinds(step: Step) -> list[str]:
    return [entry.kind for entry in step.timeline]


def test_first_steps_and_exact_arguments() -> None:
    step = start(FLOW, context())
    assert step.state.phase is Phase.PLAYING and step.state.node == "welcome"
    step = resume(FLOW, step.state, PlaybackFinished(T0 + 3))
    # welcome left, hours and holiday_check evaluated without the switch, language asked
    assert [(e.kind, e.node) for e in step.timeline] == [
        ("node_left", "welcome"),
        ("node_entered", "hours"),
        ("node_left", "hours"),
        ("node_entered", "holiday_check"),
        ("node_left", "holiday_check"),
        ("node_entered", "language"),
    ]
    assert step.timeline[0].data == {"exit": "next", "seconds": 3}
    assert step.action == Execute(
        "play_and_get_digits",
        "1 1 1 5000 # choose_language.wav silence_stream://250 cti_ivr_digits_1 ^[0-9*]+$ 3000",
        result_variable="cti_ivr_digits_1",
    )


def test_language_choice_changes_prompts() -> None:
    step = walk_to_menu(language_key="2")
    assert step.state.language == "zh"
    assert pagd_files(step) == "主菜单.wav"
    assert ("language", "language") in [(e.kind, e.node) for e in step.timeline]
    step = resume(FLOW, step.state, DigitsEntered("1", T0 + 8))
    assert step.action == Enqueue("sales", None, 0, {}, "zh", {})
    assert step.done


def test_language_defaults_on_no_input() -> None:
    step = walk_to_menu(language_key="")
    assert step.state.language == "en"
    assert pagd_files(step) == "main_menu.wav"


def test_menu_retries_timeout_then_invalid_then_failure() -> None:
    step = walk_to_menu()
    step = resume(FLOW, step.state, DigitsEntered("", T0 + 10))
    assert pagd_files(step) == "file_string://no_input.wav!main_menu.wav"
    assert kinds(step) == ["no_input"]
    step = resume(FLOW, step.state, DigitsEntered("7", T0 + 12))
    assert pagd_files(step) == "file_string://invalid.wav!main_menu.wav"
    assert kinds(step) == ["dtmf", "invalid_input"]
    step = resume(FLOW, step.state, DigitsEntered("8", T0 + 14))
    assert step.action == HangupCall("NORMAL_CLEARING", "flow")
    assert step.done
    left = [e for e in step.timeline if e.kind == "node_left" and e.node == "main_menu"]
    assert left[0].data == {"exit": "failure", "seconds": 9}


def test_collect_http_lookup_and_condition_to_vip_queue() -> None:
    step = resume(FLOW, walk_to_menu().state, DigitsEntered("2", T0 + 8))
    assert pagd_files(step) == "enter_account.wav"
    assert step.action.args.split(" ")[:2] == ["1", "8"]  # type: ignore[union-attr]
    step = resume(FLOW, step.state, DigitsEntered("12", T0 + 12))  # too short
    assert pagd_files(step) == "file_string://bad_account.wav!enter_account.wav"
    step = resume(FLOW, step.state, DigitsEntered("123456", T0 + 15))
    assert step.action == HttpLookup(
        "https://crm.example/customer?account=123456&caller=%2B15550123", 1500, {"tier": "tier", "customer_name": "name"}
    )
    assert step.state.phase is Phase.LOOKING_UP
    step = resume(FLOW, step.state, HttpResponse(True, {"tier": "gold", "name": "Ada", "other": "x"}, T0 + 16))
    assert step.action == Enqueue(
        "support", 50, 0, {"billing": 7}, "en", {"account": "123456", "tier": "gold", "customer_name": "Ada"}
    )
    assert [e.node for e in step.timeline if e.kind == "node_entered"] == ["tier", "vip_support"]


def test_http_failure_and_collect_failure_go_to_fallbacks() -> None:
    menu = walk_to_menu()
    collect = resume(FLOW, menu.state, DigitsEntered("2", T0 + 8))
    lookup = resume(FLOW, collect.state, DigitsEntered("9999", T0 + 10))
    failed = resume(FLOW, lookup.state, HttpResponse(False, {}, T0 + 12))
    assert isinstance(failed.action, Enqueue) and failed.action.queue == "support" and failed.action.priority is None
    bad = resume(FLOW, collect.state, DigitsEntered("12a", T0 + 10))
    assert bad.state.attempts == 1
    gave_up = resume(FLOW, bad.state, DigitsEntered("", T0 + 20))
    assert isinstance(gave_up.action, Enqueue) and gave_up.action.queue == "support"


def test_voicemail_with_event_code() -> None:
    step = resume(FLOW, walk_to_menu().state, DigitsEntered("3", T0 + 8))
    assert pagd_files(step) == "which_topic.wav"
    step = resume(FLOW, step.state, DigitsEntered("2", T0 + 10))
    assert step.action == Execute("playback", f"file_string://leave_message.wav!{BEEP}")
    step = resume(FLOW, step.state, PlaybackFinished(T0 + 15))
    path = "/var/lib/cti/voicemail/queue_sales/7f7e5a4e-0000-4000-8000-000000000001.wav"
    assert step.action == Execute("record", f"{path} 90 200 3")
    finished = resume(FLOW, step.state, RecordingFinished(31.5, T0 + 47))
    assert finished.action == LeaveVoicemail("queue:sales", "complaint", path, 31.5)
    hung_up = resume(FLOW, step.state, CallerHungUp(T0 + 40))
    assert hung_up.action == LeaveVoicemail("queue:sales", "complaint", path, 25.0)
    left = [e.data for e in finished.timeline if e.kind == "node_left"]
    assert left == [{"exit": "service", "seconds": 39}]  # left once, when the message is done


def test_hangup_while_choosing_a_voicemail_topic() -> None:
    step = resume(FLOW, walk_to_menu().state, DigitsEntered("3", T0 + 8))
    assert [e.kind for e in step.timeline if e.node == "leave_message"] == ["node_entered", "service"]
    gone = resume(FLOW, step.state, CallerHungUp(T0 + 9))
    assert gone.action == CallerGone("leave_message")
    assert [(e.kind, e.data.get("exit")) for e in gone.timeline] == [("node_left", "hangup"), ("caller_hangup", None)]


def test_transfer() -> None:
    step = resume(FLOW, walk_to_menu().state, DigitsEntered("9", T0 + 8))
    assert step.action == Transfer("number", "+15550000") and step.done
    assert "service" in kinds(step)


def test_closed_and_holiday() -> None:
    closed = resume(FLOW, start(FLOW, context(calendars={"office": CLOSED})).state, PlaybackFinished(T0 + 3))
    assert closed.action == Execute("playback", "closed.wav")
    assert resume(FLOW, closed.state, PlaybackFinished(T0 + 6)).action == HangupCall("NORMAL_CLEARING", "flow")
    holiday = parse_calendar(
        "office", {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in DAYS}, "holidays": [{"date": "2026-11-23", "open": ["00:00-24:00"]}]}
    )
    step = resume(FLOW, start(FLOW, context(calendars={"office": holiday})).state, PlaybackFinished(T0 + 3))
    assert step.action == Execute("playback", "closed.wav")


def test_blacklisted_caller_is_rejected_with_message() -> None:
    step = start(FLOW, context(caller_class=CallerClass.BLACKLISTED))
    assert step.action == Execute("playback", "rejected_en.wav")
    assert kinds(step) == ["caller_rejected"]
    done = resume(FLOW, step.state, PlaybackFinished(T0 + 2))
    assert done.action == HangupCall("CALL_REJECTED", "blacklisted") and done.done


def test_blacklisted_caller_hung_up_on() -> None:
    flow = load_flow_yaml(MAIN.replace("blacklist: {action: reject, prompt: {en: rejected_en.wav, zh: 拒绝.wav}}", "blacklist: hangup"))
    step = start(flow, context(caller_class=CallerClass.BLACKLISTED))
    assert step.action == HangupCall("CALL_REJECTED", "blacklisted") and step.done


def test_vip_boost_reaches_the_queue() -> None:
    step = walk_to_menu(ctx=context(caller_class=CallerClass.VIP))
    step = resume(FLOW, step.state, DigitsEntered("1", T0 + 8))
    assert step.action == Enqueue("sales", None, 20, {}, "en", {})


def test_shortcut_offered_and_used() -> None:
    step = walk_to_menu(ctx=context(shortcut=CallerShortcut("leave_message", saved=False)))
    assert pagd_files(step) == "file_string://shortcut_offer.wav!voicemail_label.wav!main_menu.wav"
    assert ("shortcut_offered", "main_menu") in [(e.kind, e.node) for e in step.timeline]
    step = resume(FLOW, step.state, DigitsEntered("*", T0 + 8))
    assert [e.kind for e in step.timeline][:3] == ["dtmf", "shortcut_used", "node_left"]
    assert step.timeline[2].data["exit"] == "shortcut"
    assert pagd_files(step) == "which_topic.wav"


def test_shortcut_not_offered_for_unknown_or_non_service_nodes() -> None:
    for node in ("gone_node", "main_menu"):
        step = walk_to_menu(ctx=context(shortcut=CallerShortcut(node, saved=True)))
        assert pagd_files(step) == "main_menu.wav"


def test_direct_routing_to_saved_shortcut() -> None:
    flow = load_flow_yaml(MAIN.replace("  menu: main_menu\n", "  menu: main_menu\n  direct: true\n"))
    step = start(flow, context(shortcut=CallerShortcut("sales", saved=True)))
    assert step.action == Enqueue("sales", None, 0, {}, "en", {})
    assert kinds(step)[:2] == ["shortcut_direct", "node_entered"]


def test_saving_a_shortcut_from_the_menu() -> None:
    step = walk_to_menu()
    step = resume(FLOW, step.state, DigitsEntered("0", T0 + 8))
    assert pagd_files(step) == "file_string://shortcut_saved.wav!main_menu.wav"
    assert step.state.attempts == 0 and step.state.save_armed
    step = resume(FLOW, step.state, DigitsEntered("1", T0 + 10))
    assert [(e.kind, e.node) for e in step.timeline if e.kind in ("service", "shortcut_saved")] == [
        ("service", "sales"),
        ("shortcut_saved", "sales"),
    ]


def test_quick_menu_of_most_requested_services() -> None:
    requests = {"sales": 40, "support": 90, "operator": 3, "leave_message": 12, "main_menu": 500}
    step = walk_to_menu(ctx=context(service_requests=requests))
    # operator is under min_requests; main_menu is not a service
    assert pagd_files(step) == "file_string://quick_intro.wav!support_label.wav!digits/1.wav!sales_label.wav!digits/2.wav"
    assert step.action.args.split(" ")[3] == "3000"  # type: ignore[union-attr]
    chosen = resume(FLOW, step.state, DigitsEntered("2", T0 + 8))
    assert chosen.action == Enqueue("sales", None, 0, {}, "en", {})
    skipped = resume(FLOW, step.state, DigitsEntered("", T0 + 9))
    assert pagd_files(skipped) == "main_menu.wav" and skipped.state.attempts == 0


def test_caller_hangs_up_in_a_menu() -> None:
    step = walk_to_menu()
    gone = resume(FLOW, step.state, CallerHungUp(T0 + 20))
    assert gone.action == CallerGone("main_menu") and gone.done
    assert gone.timeline[0].data == {"exit": "hangup", "seconds": 15}


def test_secret_digits_are_masked_and_loop_through_menu() -> None:
    step = start(SMALL_FLOW, context())
    step = resume(SMALL_FLOW, step.state, DigitsEntered("1", T0 + 2))
    assert step.action == Execute("playback", "info.wav")
    step = resume(SMALL_FLOW, step.state, PlaybackFinished(T0 + 5))
    assert pagd_files(step) == "menu.wav"  # set -> condition -> back to the menu
    assert step.state.path == ("menu", "play", "set", "check", "menu")
    step = resume(SMALL_FLOW, step.state, DigitsEntered("2", T0 + 7))
    step = resume(SMALL_FLOW, step.state, DigitsEntered("1234", T0 + 10))
    assert [e.data for e in step.timeline if e.kind in ("dtmf", "variable_set")] == [
        {"digits": "****"},
        {"name": "pin", "value": "****"},
    ]
    assert step.state.variables["pin"] == "1234"
    assert step.action == HangupCall("NORMAL_CLEARING", "flow")  # not a known customer


def test_known_customer_condition() -> None:
    step = start(SMALL_FLOW, context(customer={"name": "Ada"}))
    step = resume(SMALL_FLOW, step.state, DigitsEntered("2", T0 + 2))
    step = resume(SMALL_FLOW, step.state, DigitsEntered("4321", T0 + 5))
    assert step.action == Transfer("flow", "other_flow")


def test_each_collection_uses_a_fresh_variable() -> None:
    step = walk_to_menu()
    first = step.action
    step = resume(FLOW, step.state, DigitsEntered("", T0 + 10))
    assert isinstance(first, Execute) and isinstance(step.action, Execute)
    assert first.result_variable != step.action.result_variable


def finished() -> Step:
    rejected = start(FLOW, context(caller_class=CallerClass.BLACKLISTED))
    return resume(FLOW, rejected.state, PlaybackFinished(T0))


ILLEGAL: list[tuple[str, Any]] = [
    ("cannot take DigitsEntered while playing", lambda s: resume(FLOW, s.state, DigitsEntered("1", T0))),
    ("cannot take PlaybackFinished while collecting", lambda s: resume(FLOW, resume(FLOW, s.state, PlaybackFinished(T0)).state, PlaybackFinished(T0))),
    ("cannot take CallerHungUp while done", lambda s: resume(FLOW, finished().state, CallerHungUp(T0))),
    ("cannot take RecordingFinished while collecting", lambda s: resume(FLOW, walk_to_menu().state, RecordingFinished(1, T0))),
    ("runs flow main v2, not main v3", lambda s: resume(replace(FLOW, version=3), s.state, PlaybackFinished(T0))),
    ("calendar 'office' was not given", lambda s: resume(FLOW, start(FLOW, context(calendars={})).state, PlaybackFinished(T0))),
]


@pytest.mark.parametrize(("message", "action"), ILLEGAL)
def test_illegal_transitions(message: str, action: Any) -> None:
    with pytest.raises(IvrStateError, match=message):
        action(start(FLOW, context()))
