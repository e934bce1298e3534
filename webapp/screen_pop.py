"""The screen-pop: what an agent sees about a call while the phone rings.

Built from the live interaction record (:meth:`cti.tracker.LiveState.interaction_snapshot`)
and the site's tables: the customer the number belongs to (:mod:`cti.customers`) and
their last calls, the IVR path with the digits keyed in (those of a ``secret`` collect
node masked), queue and wait, the DID's label, for outbound calls the contact's fields
from the campaign list, the queue's external screen-pop URL (``screen_pop_url``,
rendered by :func:`routing.queues.render_url`), and for an unknown caller what the
"create customer" form needs. Two or three small queries: the push layer builds it in
its own greenlets, never on the event path.

:func:`ivr_steps`, :func:`crm_url` and :func:`shape` are pure; :class:`ScreenPops`
does the reading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from cti.crm_lookup import CrmLookup
from cti.customers import CustomerDirectory
from cti.db import Database
from routing.errors import QueueConfigError
from routing.queues import parse_queue_rules, render_url
from webapp.rooms import MASK, Directory

log = logging.getLogger(__name__)

HISTORY = 5


def party_number(record: Mapping[str, Any]) -> str:
    """The customer's number: who called us, or whom we called."""
    if record.get("direction") == "outbound":
        return str(record.get("callee_number") or "")
    return str(record.get("caller_number") or "")


def ivr_steps(record: Mapping[str, Any], secret: frozenset[str]) -> list[dict[str, Any]]:
    """The IVR path as the agent sees it: node and digits per step, secret ones masked."""
    steps = []
    for step in record.get("ivr_path") or ():
        node = str(step.get("node", ""))
        digits = str(step.get("digits") or "")
        steps.append({"node": node, "digits": MASK * len(digits) if node in secret and digits else digits,
                      "at": step.get("at"), "secret": node in secret})
    return steps


def all_digits(record: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> str:
    """Every digit the caller keyed in, masked entirely if a secret node took any."""
    digits = str(record.get("digits") or "")
    if any(step["secret"] for step in steps):
        return MASK * len(digits)
    return digits


def url_values(record: Mapping[str, Any], *, customer_id: int | None, agent_id: int | None,
               agent_code: str) -> dict[str, Any]:
    """The placeholders of a queue's URL templates (routing.queues.URL_FIELDS) for this call."""
    return {
        "interaction_id": record.get("id"), "caller_number": party_number(record),
        "caller_name": record.get("caller_name"), "did": record.get("did"), "queue": record.get("queue"),
        "agent_id": agent_id, "agent_code": agent_code, "customer_id": customer_id,
    }


def crm_url(template: str, record: Mapping[str, Any], *, customer_id: int | None, agent_id: int | None,
            agent_code: str) -> str | None:
    """The queue's external screen-pop URL for this call, or None when it has none."""
    if not template:
        return None
    return render_url(template, url_values(record, customer_id=customer_id, agent_id=agent_id,
                                           agent_code=agent_code), {})


def shape(
    record: Mapping[str, Any], *, directory: Directory, lookup: Mapping[str, Any], queue: Mapping[str, Any] | None,
    did_label: str, contact: Mapping[str, Any] | None, caller_lists: Sequence[str], agent_id: int | None,
    agent_code: str,
) -> dict[str, Any]:
    """The screen-pop document (pure: everything read is passed in)."""
    flow = str(record.get("flow_name") or "")
    secret = directory.secret_nodes.get(flow, frozenset()) if flow else frozenset().union(*directory.secret_nodes.values())
    steps = ivr_steps(record, secret)
    customer = lookup.get("customer")
    history = [item for item in lookup.get("history", ()) if item.get("interaction_id") != record.get("id")]
    customer_id = customer["id"] if customer else None
    template = str((queue or {}).get("screen_pop_url") or "")
    return {
        "interaction_id": record.get("id"),
        "direction": record.get("direction"),
        "number": lookup.get("number") or party_number(record),
        "caller_name": record.get("caller_name") or "",
        "did": record.get("did") or "",
        "did_label": did_label,
        "queue": record.get("queue") or "",
        "queue_name": (queue or {}).get("display_name") or record.get("queue") or "",
        "wait_seconds": record.get("wait_seconds"),
        "started_at": record.get("started_at"),
        "ivr": steps,
        "digits": all_digits(record, steps),
        "customer": customer,
        "history": history[:HISTORY],
        "caller_lists": list(caller_lists),
        "vip": bool(customer and customer.get("vip")) or "vip" in caller_lists,
        "contact": dict(contact) if contact else None,
        "crm_url": crm_url(template, record, customer_id=customer_id, agent_id=agent_id, agent_code=agent_code),
        "new_customer": None if customer else {"number": lookup.get("number") or party_number(record)},
    }


def queue_info(name: str, display_name: str | None, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a screen-pop needs of a queue's row (loaded with the push directory)."""
    try:
        rules = parse_queue_rules(name, settings or {})
    except QueueConfigError:
        log.warning("screen-pop: queue rules invalid", extra={"queue": name})
        return {"display_name": display_name or name, "screen_pop_url": ""}
    return {"display_name": display_name or name, "screen_pop_url": rules.screen_pop_url,
            "disposition_required": rules.disposition_required}


def caller_lists_of(number: str, normalized: str, directory: Directory) -> list[str]:
    found = set(directory.caller_lists.get(number, ())) | set(directory.caller_lists.get(normalized, ()))
    return sorted(found)


_CONTACT = """
SELECT c.id, c.name, c.e164, c.fields, c.attempts, c.last_outcome, l.name AS list_name,
       camp.name AS campaign, camp.display_name AS campaign_name
  FROM outbound_contacts c
  JOIN outbound_contact_lists l ON l.id = c.list_id
  LEFT JOIN outbound_campaigns camp ON camp.id = %(campaign)s
 WHERE c.id = %(contact)s"""


class ScreenPops:
    """Reads what a screen-pop needs and shapes it (see the module docstring). Queues,
    DIDs, agent codes and caller lists come from the push directory (a snapshot kept
    fresh by :mod:`webapp.sockets`); the customer and their history, and an outbound
    contact, from the database: two or three small queries per call."""

    def __init__(self, db: Database, customers: CustomerDirectory, crm: CrmLookup | None = None) -> None:
        self.db = db
        self.customers = customers
        self.crm = crm

    def build(self, record: Mapping[str, Any], directory: Directory, *, agent_id: int | None) -> dict[str, Any]:
        number = party_number(record)
        lookup = self.customers.screen_pop(number, limit=HISTORY + 1) if number else {"number": "", "customer": None,
                                                                                      "history": []}
        queue = str(record.get("queue") or "")
        agent_code = directory.agent_codes.get(agent_id, "") if agent_id is not None else ""
        pop = shape(
            record, directory=directory, lookup=lookup, queue=directory.queue_info.get(queue),
            did_label=directory.did_labels.get(str(record.get("did") or ""), ""), contact=self._contact(record),
            caller_lists=caller_lists_of(number, str(lookup.get("number") or number), directory),
            agent_id=agent_id, agent_code=agent_code,
        )
        if self.crm is None or not queue:
            return pop
        customer = lookup.get("customer")
        values = url_values(record, customer_id=customer["id"] if customer else None, agent_id=agent_id,
                            agent_code=agent_code)
        return self.crm.enrich(pop, queue, values)

    def _contact(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        contact_id = record.get("contact_id")
        if contact_id is None:
            return None
        row = self.db.fetchone(_CONTACT, {"contact": contact_id, "campaign": record.get("campaign_id")})
        return None if row is None else {**row, "fields": dict(row["fields"] or {})}


__all__ = [
    "HISTORY", "ScreenPops", "all_digits", "caller_lists_of", "crm_url", "ivr_steps", "party_number", "queue_info",
    "shape",
]
