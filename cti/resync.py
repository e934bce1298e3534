"""Resync: line the live picture up with what a switch says it has right now.

After every (re)connect the ESL client sends ``show channels as json`` rows merged with
``uuid_dump <uuid> json`` (the event header names plus the ``show`` columns) to
:meth:`cti.tracker.LiveState.reconcile`, which runs :func:`reconcile` in one
transaction:

1. Legs we know on that switch that it no longer has are closed now, with hangup cause
   :data:`cti.calls.RESYNC_GONE` (how they ended is unknown, so no agent is blamed for
   a ring that vanished). An originate we asked for that never produced a channel is
   failed the same way. ``show channels`` reads the switch's core database, which lags
   the events by up to ~1 s, so legs younger than ``resync_grace`` are left alone.
2. Channels we did not know are adopted: tagged ones (our ``cti_*`` variables) rebuild
   their interaction, customers first; untagged ones join through linkage. An adopted
   customer with ``cti_queue`` and no agent is put back in that queue.
3. What ``uuid_dump`` says now is applied to every leg: answered, bridged to
   (``variable_bridge_to``, set only while bridged), held (``Channel-Call-State: HELD``),
   eavesdropping (``variable_current_application``), DTMF masked
   (``variable_cti_dtmf_secret``).
4. Agents still reserved or on a call whose leg no longer exists are released.

It ends with one ``system.resynced`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from cti import agents as ag
from cti.agent_states import AgentState
from cti.bus import DomainEvent
from cti.call_facts import (
    DtmfSecret,
    LegAdded,
    LegAnswered,
    LegBridged,
    LegGone,
    LegHeld,
    OriginateFailed,
    QueueEntered,
    SupervisorJoined,
)
from cti.call_states import FINAL
from cti.calls import RESYNC_GONE
from cti.channel_facts import dtmf_secret
from cti.interaction import LegRole
from cti.legs import (
    SUPERVISOR_APPS,
    LegIdentity,
    interaction_from,
    leg_from,
    linked_role,
    micros,
    read_identity,
    supervisor_mode,
)
from cti.live_store import Transaction

Row = Mapping[str, str]
_BUSY = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.ON_HOLD, AgentState.IN_CONSULT)


def reconcile(txn: Transaction, node: str, channels: Sequence[Row], now: float) -> None:
    rows = {uuid: row for row in channels if (uuid := row.get("Unique-ID") or row.get("uuid", ""))}
    ordered = sorted(rows.items(), key=_order)
    answered = _answer_times(ordered, now)
    closed = _close_missing(txn, node, rows, now)
    adopted = _adopt(txn, node, ordered, answered, now)
    for uuid, row in ordered:
        _refresh(txn, uuid, row, answered, now)
    _release_agents(txn, now)
    txn.events.append(DomainEvent(
        type="system.resynced", node=node or None, at=now,
        data={"node": node, "channels": len(rows), "closed_legs": closed, "adopted_legs": adopted},
    ))


def _answer_times(ordered: Sequence[tuple[str, Row]], now: float) -> dict[str, float]:
    """When each channel was answered: its own ``Caller-Channel-Answered-Time``, else the
    ``Other-Leg-Channel-Answered-Time`` its bridge partner's dump reports, else (a bare
    ``show channels`` row that says it is up) the resync time."""
    times: dict[str, float] = {}
    for uuid, row in ordered:
        own = micros(row.get("Caller-Channel-Answered-Time", ""))
        if own is not None:
            times[uuid] = own
        other = row.get("Other-Leg-Unique-ID", "")
        other_time = micros(row.get("Other-Leg-Channel-Answered-Time", ""))
        if other and other_time is not None:
            times.setdefault(other, other_time)
    for uuid, row in ordered:
        if row.get("Answer-State") == "answered" or row.get("callstate") in ("ACTIVE", "HELD"):
            times.setdefault(uuid, now)
    return times


def _close_missing(txn: Transaction, node: str, rows: Mapping[str, Row], now: float) -> int:
    closed = 0
    for iid, ix in list(txn.store.calls.items()):
        for leg in ix.legs.values():
            if (leg.node and leg.node != node) or not leg.up or leg.uuid in rows:
                continue
            if leg.created_at is not None and leg.created_at > now - txn.settings.resync_grace:
                continue
            current = txn.call(iid)
            if current is None or current.state in FINAL:
                break
            if leg.seen:
                txn.apply(iid, LegGone(leg.uuid, now, RESYNC_GONE))
            else:
                txn.apply(iid, OriginateFailed(leg.uuid, RESYNC_GONE, now))
            closed += 1
    return closed


def _order(item: tuple[str, Row]) -> int:
    who = read_identity(item[1])
    if who.managed or who.role is LegRole.CUSTOMER:
        return 0
    if who.tagged:
        return 1 if who.role is not LegRole.SUPERVISOR else 2
    return 3


def _adopt(
    txn: Transaction, node: str, ordered: Sequence[tuple[str, Row]], answered: Mapping[str, float],
    now: float,
) -> int:
    adopted = 0
    for uuid, row in ordered:
        if uuid in txn.store.done or txn.owner(uuid) is not None:
            continue
        who = read_identity(row)
        if who.loopback_b:
            continue
        who = replace(who, answered_at=answered.get(uuid))
        iid = _claim(txn, who, row, node, now)
        if iid is not None:
            adopted += 1
    return adopted


def _claim(txn: Transaction, who: LegIdentity, row: Row, node: str, now: float) -> str | None:
    if who.tagged or who.managed:
        iid = who.interaction_id or who.uuid
        if iid in txn.store.done:
            return None
        role = who.role or LegRole.CUSTOMER
        created = txn.call(iid) is None
        if created:
            txn.create(interaction_from(iid, who, role, node, now))
        txn.apply(iid, LegAdded(leg_from(who, role, who.agent_id, node, now), now))
        if created and role is LegRole.CUSTOMER and who.queue and not row.get("variable_bridge_to"):
            txn.apply(iid, QueueEntered(who.queue, 0, now))
        return iid
    application = row.get("variable_current_application") or row.get("application", "")
    target = row.get("variable_current_application_data") or row.get("application_data", "")
    candidates = [target] if application in SUPERVISOR_APPS else []
    candidates += [row.get("variable_bridge_to", ""), row.get("Other-Leg-Unique-ID", ""), row.get("b_uuid", "")]
    for uuid in candidates:
        owner = txn.owner(uuid) if uuid else None
        ix = txn.call(owner) if owner else None
        if owner is None or ix is None or uuid not in ix.legs:
            continue
        agent_id = txn.store.by_extension.get(who.extension) if who.extension else None
        role = LegRole.SUPERVISOR if application in SUPERVISOR_APPS else linked_role(ix.legs[uuid].role, agent_id)
        txn.stats.adopted_legs += 1
        txn.apply(owner, LegAdded(leg_from(who, role, agent_id, node, now), now))
        return owner
    return None


def _refresh(txn: Transaction, uuid: str, row: Row, answered: Mapping[str, float], now: float) -> None:
    iid = txn.owner(uuid)
    ix = txn.call(iid) if iid else None
    if iid is None or ix is None or ix.state in FINAL:
        return
    leg = ix.legs.get(uuid)
    if leg is None or not leg.up:
        return
    if leg.answered_at is None and uuid in answered:
        txn.apply(iid, LegAnswered(uuid, answered[uuid]))
    partner = row.get("variable_bridge_to", "")
    if partner and partner in ix.legs:
        txn.apply(iid, LegBridged(uuid, partner, micros(row.get("Caller-Channel-Bridged-Time", "")) or now))
    application = row.get("variable_current_application") or row.get("application", "")
    if application in SUPERVISOR_APPS and leg.role is LegRole.SUPERVISOR:
        target = row.get("variable_current_application_data") or row.get("application_data", "")
        txn.apply(iid, SupervisorJoined(uuid, supervisor_mode(row, application), target, now))
    if row.get("Channel-Call-State") == "HELD":
        txn.apply(iid, LegHeld(uuid, True, now))
    secret = dtmf_secret(row)
    if secret is not None and secret != leg.dtmf_secret:
        txn.apply(iid, DtmfSecret(uuid, secret, now))


def _release_agents(txn: Transaction, now: float) -> None:
    """Agents busy on a leg no live interaction has any more (or whose leg is over)."""
    for agent_id in list(txn.store.agents):
        agent = txn.agent(agent_id)
        if agent is None:
            continue
        if agent.state not in _BUSY or agent.leg_uuid is None:
            continue
        iid = txn.owner(agent.leg_uuid)
        ix = txn.call(iid) if iid else None
        leg = ix.legs.get(agent.leg_uuid) if ix is not None else None
        if leg is not None and leg.up and ix is not None and ix.state not in FINAL:
            continue
        if agent.state is AgentState.RESERVED:
            txn.apply_agent(agent_id, ag.RingEnded(now, agent.leg_uuid, "failed", agent_at_fault=False), from_call=True)
        else:
            limit = txn.settings.wrapup_limit(ix.queue if ix is not None else "")
            txn.apply_agent(agent_id, ag.CallEnded(now, agent.leg_uuid, limit), from_call=True)
