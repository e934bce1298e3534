"""The supervisor service end to end: real TCP to the simulated switch, the real core,
routing engine and store. Each action is checked three ways: the commands the switch
received (its ``API`` events), what the switch then did with its channels, and what
the core recorded on the interaction (state, supervisor sessions, timeline)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cti.interaction import SupervisorMode
from cti.supervision import Forbidden, NeedExtension, SupervisionError, SwitchRefused
from cti.supervision_rules import Action, Scope, SessionKind, SessionState
from tests.stack import Stack
from tests.webapp.supervisor_site import (
    PHONES,
    UNREGISTERED_PHONE,
    CommandLog,
    call_into,
    leg_of,
    ready,
    supervisor_stack,
    talking,
)

pytestmark = pytest.mark.slow

M = SupervisorMode
PHONE = PHONES["lead_red"]


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = supervisor_stack(database_url, tmp_path_factory.mktemp("supervision"))
    yield stack
    stack.close()


@pytest.fixture
def log(site: Stack) -> Iterator[CommandLog]:
    commands = CommandLog(site)
    yield commands
    commands.close()


@pytest.fixture
def red(site: Stack) -> Scope:
    """lead_red's scope: queues sup_talk, sup_wait, sup_ring and team Red."""
    from cti.scope import load_scope
    from cti.users import get_user

    return load_scope(site.db, get_user(site.db, site.user_id("lead_red")))


def joined(site: Stack, iid: str, mode: str, **match) -> dict:
    return site.wait_event("call.supervisor_joined", interaction_id=iid, mode=mode, **match).data


def active(site: Stack, leg: str):
    return site.wait_for(lambda: next((s for s in site.services.supervision.sessions() if s.leg_uuid == leg
                                       and s.state is SessionState.ACTIVE), None), what="session active")


def sim_mode(site: Stack, leg: str, mode: str) -> None:
    site.wait_for(lambda: (leg_of(site, leg) or {}).get("eavesdrop_mode") == mode, what=f"switch in {mode} mode")


def hang_up_caller(site: Stack, iid: str) -> None:
    ix = site.core.state.interaction(iid)
    if ix.customer is not None and ix.customer.up:
        site.switch.hangup(ix.customer_leg)
    site.wait_event("call.ended", interaction_id=iid)


def test_listen_rings_the_supervisor_into_eavesdrop_on_the_agent(site: Stack, log: CommandLog, red: Scope) -> None:
    agent_id, iid = talking(site, "1001", "+15550101")
    agent_leg = site.core.state.interaction(iid).serving_leg
    session = site.services.supervision.monitor(red, iid, Action.LISTEN, PHONE)

    data = joined(site, iid, "listen")
    assert (data["leg_uuid"], data["target_uuid"], data["extension"]) == (session.leg_uuid, agent_leg, PHONE)
    [originate] = log.matching("originate", f"origination_uuid={session.leg_uuid}")
    assert originate.endswith(f"user/{PHONE} &eavesdrop({agent_leg})")
    for variable in (f"cti_interaction_id={iid}", "cti_role=supervisor", "cti_supervisor_mode=listen",
                     f"cti_target_uuid={agent_leg}", "eavesdrop_enable_dtmf=true", "cti_queue=sup_talk"):
        assert variable in originate
    assert active(site, session.leg_uuid).mode is M.LISTEN
    sim_mode(site, session.leg_uuid, "listen")
    assert log.matching("uuid_recv_dtmf", session.leg_uuid) == []     # listening is eavesdrop's default
    # the call itself goes on unchanged: still agent and caller, bridged
    ix = site.core.state.interaction(iid)
    assert (ix.state.value, ix.serving_leg, ix.bridged) == ("connected", agent_leg, True)
    record = site.core.state.interaction_snapshot(iid)
    assert [(s["mode"], s["target_uuid"], s["extension"]) for s in record["supervisors"]] == [("listen", agent_leg, PHONE)]
    assert {leg["role"] for leg in record["legs"]} == {"customer", "agent", "supervisor"}
    hang_up_caller(site, iid)
    site.wait_event("call.supervisor_left", interaction_id=iid)
    # the eavesdrop ends with its target, and the supervisor's phone with it
    site.wait_for(lambda: leg_of(site, session.leg_uuid) is None, what="supervisor leg gone")
    site.wait_for(lambda: not site.services.supervision.sessions(red.user_id), what="session forgotten")


@pytest.mark.parametrize(("action", "key", "switch_mode"), [(Action.WHISPER, "2", "whisper"), (Action.BARGE, "3", "three-way")])
def test_whisper_and_barge_send_eavesdrops_key_once_the_eavesdrop_runs(
        site: Stack, log: CommandLog, red: Scope, action: Action, key: str, switch_mode: str) -> None:
    _, iid = talking(site, "1002", f"+1555010{key}")
    session = site.services.supervision.monitor(red, iid, action, PHONE)
    joined(site, iid, action.value)
    sim_mode(site, session.leg_uuid, switch_mode)
    assert log.matching("uuid_recv_dtmf", session.leg_uuid) == [f"uuid_recv_dtmf {session.leg_uuid} {key}"]
    assert f"cti_supervisor_mode={action.value}" in log.matching("originate", session.leg_uuid)[0]
    hang_up_caller(site, iid)


def test_switching_modes_in_the_same_session(site: Stack, log: CommandLog, red: Scope) -> None:
    _, iid = talking(site, "1001", "+15550110")
    service = site.services.supervision
    session = service.monitor(red, iid, Action.LISTEN, PHONE)
    active(site, session.leg_uuid)
    for mode, key, seen in ((M.WHISPER, "2", "whisper"), (M.BARGE, "3", "three-way"), (M.LISTEN, "0", "listen")):
        switched = service.switch(red, session.leg_uuid, mode)
        assert (switched.leg_uuid, switched.mode) == (session.leg_uuid, mode)
        sim_mode(site, session.leg_uuid, seen)
        assert log.matching("uuid_recv_dtmf", session.leg_uuid)[-1].endswith(f" {key}")
        assert log.matching("uuid_setvar", session.leg_uuid)[-1].endswith(f"cti_supervisor_mode {mode.value}")
    # a second click on "whisper" for the same call switches again: no new call to the phone
    again = service.monitor(red, iid, Action.WHISPER, PHONE)
    assert again.leg_uuid == session.leg_uuid
    sim_mode(site, session.leg_uuid, "whisper")
    assert len(log.matching("originate", f"user/{PHONE}")) == 1
    switches = [(e.data["mode"], e.data.get("switched_from")) for e in site.events
                if e.type == "call.supervisor_joined" and e.interaction_id == iid]
    assert switches == [("listen", None), ("whisper", "listen"), ("barge", "whisper"), ("listen", "barge"),
                        ("whisper", "listen")]
    record = site.core.state.interaction_snapshot(iid)
    assert record["supervisors"][0]["mode"] == "whisper"
    assert [e["digit"] for e in record["timeline"] if e["type"] == "dtmf" and e["role"] == "supervisor"] == ["2", "3", "0", "2"]
    # the supervisor's own keypad does the same
    site.switch.press_digits(session.leg_uuid, "3")
    sim_mode(site, session.leg_uuid, "three-way")
    joined(site, iid, "barge", switched_from="whisper")
    hang_up_caller(site, iid)


def test_leaving_ends_only_the_supervisor_leg(site: Stack, log: CommandLog, red: Scope) -> None:
    _, iid = talking(site, "1002", "+15550120")
    service = site.services.supervision
    session = service.monitor(red, iid, Action.LISTEN, PHONE)
    active(site, session.leg_uuid)
    service.end(red, session.leg_uuid)
    assert log.matching("uuid_kill", session.leg_uuid) == [f"uuid_kill {session.leg_uuid} NORMAL_CLEARING"]
    site.wait_event("call.supervisor_left", interaction_id=iid, leg_uuid=session.leg_uuid)
    site.wait_for(lambda: not service.sessions(red.user_id), what="session forgotten")
    ix = site.core.state.interaction(iid)
    assert ix.state.value == "connected" and ix.bridged
    hang_up_caller(site, iid)


def test_force_hangup_ends_the_whole_call(site: Stack, log: CommandLog, red: Scope) -> None:
    agent_id, iid = talking(site, "1001", "+15550130")
    customer = site.core.state.interaction(iid).customer_leg
    killed = site.services.supervision.force_hangup(red, iid)
    assert killed[0] == customer
    assert log.matching("uuid_kill")[0] == f"uuid_kill {customer} NORMAL_CLEARING"
    ended = site.wait_event("call.ended", interaction_id=iid).data
    assert ended["hangup_by"] == "system" and ended["outcome"] == "answered"
    assert all(leg["ended_at"] for leg in ended["legs"])
    site.wait_for(lambda: site.core.state.agent(agent_id).state.value != "on_call", what="agent off the call")


def test_intercept_a_waiting_call(site: Stack, log: CommandLog, red: Scope) -> None:
    _, iid = call_into(site, "sup_wait", "+15550140")     # sup_wait has no agents: the caller waits
    customer = site.core.state.interaction(iid).customer_leg
    session = site.services.supervision.intercept(red, iid, PHONE)
    assert session.kind is SessionKind.INTERCEPT
    joined(site, iid, "intercept")
    site.wait_for(lambda: site.core.state.interaction(iid).serving_leg == session.leg_uuid and
                  site.core.state.interaction(iid).bridged, what="caller bridged to the supervisor")
    [originate] = log.matching("originate", session.leg_uuid)
    assert originate.endswith(f"user/{PHONE} &intercept({customer})") and "cti_supervisor_mode=intercept" in originate
    assert (leg_of(site, customer) or {}).get("bridged_to") == session.leg_uuid
    record = site.core.state.interaction_snapshot(iid)
    assert record["state"] == "connected"
    assert record["queue_visits"][-1]["outcome"] in ("answered", "intercepted")
    # routing let the call go: no more queue music or announcements for it
    site.wait_for(lambda: site.services.routing.sessions.get(iid) is None, what="routing released the call")
    before = len(log.matching("uuid_broadcast", customer))
    hang_up_caller(site, iid)
    assert len(log.matching("uuid_broadcast", customer)) == before


def test_intercept_a_call_ringing_an_agent(site: Stack, log: CommandLog, red: Scope) -> None:
    ringing_agent = ready(site, "1003")                    # its phone never answers
    _, iid = call_into(site, "sup_ring", "+15550150")
    offered = site.wait_event("call.offered", interaction_id=iid, agent_id=ringing_agent).data
    session = site.services.supervision.intercept(red, iid, PHONE)
    failed = site.wait_event("call.offer_failed", interaction_id=iid, agent_id=ringing_agent).data
    assert failed["outcome"] == "withdrawn" and failed["leg_uuid"] == offered["leg_uuid"]
    site.wait_for(lambda: site.core.state.interaction(iid).serving_leg == session.leg_uuid, what="taken")
    assert leg_of(site, offered["leg_uuid"]) is None
    site.wait_for(lambda: site.core.state.agent(ringing_agent).state.value in ("available", "not_ready"),
                  what="agent freed")
    hang_up_caller(site, iid)


def test_intercept_pulls_the_call_away_from_the_agent(site: Stack, log: CommandLog, red: Scope) -> None:
    agent_id, iid = talking(site, "1002", "+15550160")
    agent_leg = site.core.state.interaction(iid).serving_leg
    session = site.services.supervision.intercept(red, iid, PHONE)
    site.wait_for(lambda: site.core.state.interaction(iid).serving_leg == session.leg_uuid, what="taken")
    record = site.core.state.interaction_snapshot(iid)
    agent_leg_record = next(leg for leg in record["legs"] if leg["uuid"] == agent_leg)
    site.wait_for(lambda: next(leg for leg in site.core.state.interaction_snapshot(iid)["legs"]
                               if leg["uuid"] == agent_leg)["ended_at"], what="agent leg gone")
    agent_leg_record = next(leg for leg in site.core.state.interaction_snapshot(iid)["legs"] if leg["uuid"] == agent_leg)
    assert agent_leg_record["hangup_cause"] == "PICKED_OFF"
    assert [s["mode"] for s in record["supervisors"]] == ["intercept"]
    assert site.core.state.interaction(iid).state.value == "connected"
    hang_up_caller(site, iid)


def test_a_listening_supervisor_takes_the_call_without_a_new_ring(site: Stack, log: CommandLog, red: Scope) -> None:
    _, iid = talking(site, "1001", "+15550170")
    service = site.services.supervision
    customer = site.core.state.interaction(iid).customer_leg
    session = service.monitor(red, iid, Action.LISTEN, PHONE)
    active(site, session.leg_uuid)
    taken = service.intercept(red, iid, PHONE)
    assert (taken.leg_uuid, taken.kind) == (session.leg_uuid, SessionKind.INTERCEPT)
    assert log.matching("uuid_transfer", session.leg_uuid) == [
        f"uuid_transfer {session.leg_uuid} intercept:{customer} inline"]
    joined(site, iid, "intercept", switched_from="listen")
    site.wait_for(lambda: site.core.state.interaction(iid).serving_leg == session.leg_uuid, what="taken")
    assert len(log.matching("originate", f"user/{PHONE}")) == 1
    with pytest.raises(SupervisionError, match="taken this call over"):
        service.switch(red, session.leg_uuid, M.WHISPER)
    _, waiting = call_into(site, "sup_wait", "+15550171")   # one phone: the caller taken over comes first
    with pytest.raises(SupervisionError, match="your phone is on a call you took over"):
        service.intercept(red, waiting, PHONE)
    hang_up_caller(site, waiting)
    hang_up_caller(site, iid)


# --- refusals: nothing reaches the switch ---------------------------------------------------------


def test_refusals_send_nothing_to_the_switch(site: Stack, log: CommandLog, red: Scope) -> None:
    service = site.services.supervision
    blue_agent = ready(site, "1004")
    _, other = call_into(site, "sup_other", "+15550180")     # lead_blue's queue, lead_blue's agent
    site.wait_event("call.answered", interaction_id=other, agent_id=blue_agent)
    leg, waiting = call_into(site, "sup_wait", "+15550181")
    site.wait_for(lambda: log.matching("uuid_broadcast", leg), what="queue music: routing is done with it")
    marker = len(log.commands())
    with pytest.raises(Forbidden, match="not in your queues or teams"):
        service.monitor(red, other, Action.LISTEN, PHONE)
    with pytest.raises(Forbidden):
        service.force_hangup(red, other)
    with pytest.raises(Forbidden):
        service.intercept(red, other, PHONE)
    with pytest.raises(SupervisionError, match="need an agent on the call"):
        service.monitor(red, waiting, Action.WHISPER, PHONE)
    with pytest.raises(NeedExtension, match="set your phone's extension first"):
        service.intercept(red, waiting, "")
    with pytest.raises(NeedExtension, match="not valid"):
        service.intercept(red, waiting, "30 01")
    site.switch.engine.core.fire_plain("API", "API", [("API-Command", "barrier")])
    site.wait_for(lambda: "barrier" in log.commands(), what="the barrier event")
    assert log.commands()[marker:] == ["barrier"]
    for iid in (other, waiting):
        hang_up_caller(site, iid)


def test_an_unregistered_phone_is_a_clear_refusal(site: Stack, red: Scope) -> None:
    _, iid = call_into(site, "sup_wait", "+15550190")
    with pytest.raises(SwitchRefused, match=f"your phone {UNREGISTERED_PHONE} is not registered"):
        site.services.supervision.intercept(red, iid, UNREGISTERED_PHONE)
    assert site.services.supervision.sessions(red.user_id) == []
    hang_up_caller(site, iid)


def test_a_phone_that_does_not_answer_ends_the_session_with_a_reason(site: Stack, red: Scope) -> None:
    service = site.services.supervision
    told: list[tuple[str, str]] = []
    service.add_listener(lambda s, what, message: told.append((what, message)) if s.user_id == red.user_id else None)
    site.switch.register_phone("3008", behaviour="no_answer")
    _, iid = call_into(site, "sup_wait", "+15550191")
    service.originate_timeout, service.fast_refusal = 2, 0.0   # ring 2 simulated s; answer the request at once
    try:
        session = service.intercept(red, iid, "3008")
        assert session.state is SessionState.RINGING
        site.wait_for(lambda: ("failed", "your phone 3008 did not answer") in told, what="failure told")
    finally:
        service.originate_timeout, service.fast_refusal = 30, 1.0
    assert service.sessions(red.user_id) == []
    assert site.core.state.interaction(iid).state.value == "queued"   # the caller keeps waiting
    hang_up_caller(site, iid)
