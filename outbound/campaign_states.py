"""The campaign and contact state machines. Every transition of both lives in the two
tables below and nowhere else.

A transition is ``transition(state, event) -> (new_state, effects)``: pure, with the
effects (things the shell must do: start the dialer, publish ``campaign.changed``,
persist the contact, ...) returned as data. An event a state does not accept raises
:class:`outbound.errors.IllegalTransition`, which the shell logs and counts.

Campaign::

    draft ──schedule──▶ scheduled ──start_time──▶ running ◀──resume── paused
      │                    │                        │  └──pause──────▶  │
      └──────start─────────┴───────────────────────▶│                   │
    running/paused ──stop──▶ stopped     running/paused ──exhausted/end_time──▶ finished
    scheduled ──stop──▶ stopped          stopped/finished ──reopen──▶ draft

Contact::

    new / scheduled_retry ──dial──▶ dialing ──answered──▶ connected
    dialing / connected ──retry──▶ scheduled_retry      ──done──▶ done
    new / scheduled_retry ──dial_refused──▶ scheduled_retry (window, daily cap, UK redial rules)
    new / scheduled_retry ──dnc──▶ dnc (on a DNC list)   connected ──dnc──▶ dnc (asked on the call)
    new / dialing / scheduled_retry ──invalid──▶ invalid
    done / dnc / invalid ──recycle──▶ new (a manager resets the list)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from outbound.errors import IllegalTransition


class CampaignState(enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"


class CampaignEvent(enum.Enum):
    SCHEDULE = "schedule"            # a manager set a start time
    START = "start"                  # a manager starts it now
    START_TIME = "start_time"        # the scheduled start time came
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"                    # a manager ends it
    EXHAUSTED = "exhausted"          # every contact reached a final state
    END_TIME = "end_time"            # the configured end time came
    REOPEN = "reopen"                # back to draft to edit and run again


class CampaignEffect(enum.Enum):
    ARM_START_TIMER = "arm_start_timer"
    CANCEL_START_TIMER = "cancel_start_timer"
    START_DIALING = "start_dialing"
    STOP_DIALING = "stop_dialing"          # no new calls; calls in progress finish
    PUBLISH_CHANGED = "publish_changed"    # campaign.changed
    PUBLISH_FINISHED = "publish_finished"  # campaign.finished


class ContactState(enum.Enum):
    NEW = "new"
    DIALING = "dialing"
    CONNECTED = "connected"
    SCHEDULED_RETRY = "scheduled_retry"
    DONE = "done"
    DNC = "dnc"
    INVALID = "invalid"


class ContactEvent(enum.Enum):
    DIAL = "dial"
    DIAL_REFUSED = "dial_refused"    # the compliance check said not now
    ANSWERED = "answered"
    RETRY = "retry"                  # call ended; retries.after_call said RETRY
    DONE = "done"                    # call ended with a final outcome
    DNC = "dnc"                      # number on a DNC list, or the contact asked
    INVALID = "invalid"              # the network says the number does not exist
    RECYCLE = "recycle"


class ContactEffect(enum.Enum):
    RECORD_ATTEMPT = "record_attempt"            # insert the attempt row before originating
    SCHEDULE_RETRY = "schedule_retry"            # set next_attempt_at
    CLOSE_ATTEMPT = "close_attempt"              # write outcome, times, counters
    ADD_TO_CAMPAIGN_DNC = "add_to_campaign_dnc"  # the contact asked not to be called
    CHECK_EXHAUSTED = "check_exhausted"          # maybe the campaign is finished


C = CampaignState
CE = CampaignEvent
CF = CampaignEffect

CAMPAIGN_TRANSITIONS: Mapping[tuple[CampaignState, CampaignEvent], tuple[CampaignState, tuple[CampaignEffect, ...]]] = {
    (C.DRAFT, CE.SCHEDULE): (C.SCHEDULED, (CF.ARM_START_TIMER, CF.PUBLISH_CHANGED)),
    (C.DRAFT, CE.START): (C.RUNNING, (CF.START_DIALING, CF.PUBLISH_CHANGED)),
    (C.SCHEDULED, CE.START_TIME): (C.RUNNING, (CF.START_DIALING, CF.PUBLISH_CHANGED)),
    (C.SCHEDULED, CE.START): (C.RUNNING, (CF.CANCEL_START_TIMER, CF.START_DIALING, CF.PUBLISH_CHANGED)),
    (C.SCHEDULED, CE.SCHEDULE): (C.SCHEDULED, (CF.CANCEL_START_TIMER, CF.ARM_START_TIMER, CF.PUBLISH_CHANGED)),
    (C.SCHEDULED, CE.STOP): (C.STOPPED, (CF.CANCEL_START_TIMER, CF.PUBLISH_CHANGED)),
    (C.RUNNING, CE.PAUSE): (C.PAUSED, (CF.STOP_DIALING, CF.PUBLISH_CHANGED)),
    (C.RUNNING, CE.STOP): (C.STOPPED, (CF.STOP_DIALING, CF.PUBLISH_CHANGED)),
    (C.RUNNING, CE.EXHAUSTED): (C.FINISHED, (CF.STOP_DIALING, CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED)),
    (C.RUNNING, CE.END_TIME): (C.FINISHED, (CF.STOP_DIALING, CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED)),
    (C.PAUSED, CE.RESUME): (C.RUNNING, (CF.START_DIALING, CF.PUBLISH_CHANGED)),
    (C.PAUSED, CE.STOP): (C.STOPPED, (CF.PUBLISH_CHANGED,)),
    (C.PAUSED, CE.EXHAUSTED): (C.FINISHED, (CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED)),
    (C.PAUSED, CE.END_TIME): (C.FINISHED, (CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED)),
    (C.STOPPED, CE.REOPEN): (C.DRAFT, (CF.PUBLISH_CHANGED,)),
    (C.FINISHED, CE.REOPEN): (C.DRAFT, (CF.PUBLISH_CHANGED,)),
}

K = ContactState
KE = ContactEvent
KF = ContactEffect

CONTACT_TRANSITIONS: Mapping[tuple[ContactState, ContactEvent], tuple[ContactState, tuple[ContactEffect, ...]]] = {
    (K.NEW, KE.DIAL): (K.DIALING, (KF.RECORD_ATTEMPT,)),
    (K.SCHEDULED_RETRY, KE.DIAL): (K.DIALING, (KF.RECORD_ATTEMPT,)),
    (K.NEW, KE.DIAL_REFUSED): (K.SCHEDULED_RETRY, (KF.SCHEDULE_RETRY,)),
    (K.SCHEDULED_RETRY, KE.DIAL_REFUSED): (K.SCHEDULED_RETRY, (KF.SCHEDULE_RETRY,)),
    (K.DIALING, KE.ANSWERED): (K.CONNECTED, ()),
    (K.DIALING, KE.RETRY): (K.SCHEDULED_RETRY, (KF.CLOSE_ATTEMPT, KF.SCHEDULE_RETRY)),
    (K.CONNECTED, KE.RETRY): (K.SCHEDULED_RETRY, (KF.CLOSE_ATTEMPT, KF.SCHEDULE_RETRY)),
    (K.DIALING, KE.DONE): (K.DONE, (KF.CLOSE_ATTEMPT, KF.CHECK_EXHAUSTED)),
    (K.CONNECTED, KE.DONE): (K.DONE, (KF.CLOSE_ATTEMPT, KF.CHECK_EXHAUSTED)),
    (K.NEW, KE.DNC): (K.DNC, (KF.CHECK_EXHAUSTED,)),
    (K.SCHEDULED_RETRY, KE.DNC): (K.DNC, (KF.CHECK_EXHAUSTED,)),
    (K.CONNECTED, KE.DNC): (K.DNC, (KF.CLOSE_ATTEMPT, KF.ADD_TO_CAMPAIGN_DNC, KF.CHECK_EXHAUSTED)),
    (K.NEW, KE.INVALID): (K.INVALID, (KF.CHECK_EXHAUSTED,)),
    (K.SCHEDULED_RETRY, KE.INVALID): (K.INVALID, (KF.CHECK_EXHAUSTED,)),
    (K.DIALING, KE.INVALID): (K.INVALID, (KF.CLOSE_ATTEMPT, KF.CHECK_EXHAUSTED)),
    (K.DONE, KE.RECYCLE): (K.NEW, ()),
    (K.DNC, KE.RECYCLE): (K.NEW, ()),
    (K.INVALID, KE.RECYCLE): (K.NEW, ()),
}

#: Contact states from which the dialer will never call again without a recycle.
FINAL_CONTACT_STATES = frozenset({K.DONE, K.DNC, K.INVALID})

S = TypeVar("S", bound=enum.Enum)
E = TypeVar("E", bound=enum.Enum)
F = TypeVar("F", bound=enum.Enum)


def _step(
    machine: str, table: Mapping[tuple[S, E], tuple[S, tuple[F, ...]]], state: S, event: E
) -> tuple[S, tuple[F, ...]]:
    try:
        return table[(state, event)]
    except KeyError:
        raise IllegalTransition(machine, state.value, event.value) from None


def campaign_transition(
    state: CampaignState, event: CampaignEvent
) -> tuple[CampaignState, tuple[CampaignEffect, ...]]:
    return _step("campaign", CAMPAIGN_TRANSITIONS, state, event)


def contact_transition(state: ContactState, event: ContactEvent) -> tuple[ContactState, tuple[ContactEffect, ...]]:
    return _step("contact", CONTACT_TRANSITIONS, state, event)
