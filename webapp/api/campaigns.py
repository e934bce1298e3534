"""Outbound campaigns: CRUD, adding contacts (validated and normalised like a CSV
import: :mod:`outbound.import_rows`), start / pause / stop through the campaign state
machine (:mod:`outbound.campaign_states`), and stats.

A state change goes through the dialer (``services.dialer.control``), exactly as the
campaign page does: the same readiness checks, the campaign row locked, an audit entry
naming the token, and ``campaign.changed`` published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg2.extras

from outbound import campaign_sql
from outbound.campaign_config import check_caller_id, check_settings
from outbound.campaign_states import CampaignEvent, CampaignState
from outbound.errors import ImportFileError, OutboundError
from outbound.import_rows import ColumnMapping, ContactRow, read_row
from outbound.phone import is_known_region
from outbound.store import compliance_figures, counter_day
from webapp.api.errors import ApiError
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page
from webapp.api.schemas import ID, NAME, closed, ref
from webapp.api.schemas import page as page_schema
from webapp.api.validation import parse_time

CAMPAIGN_ID = path_param("campaign_id", ID)
MAX_CONTACTS = 10_000
_STATES = [s.value for s in CampaignState]

_FIELDS: dict[str, Any] = {
    "display_name": {"type": "string", "maxLength": 200},
    "mode": {"enum": ["predictive", "progressive", "preview", "agentless"]},
    "compliance_profile": {"enum": ["default", "uk_ofcom"]},
    "queue": {"anyOf": [NAME, {"const": ""}]},
    "caller_id_number": {"type": "string", "maxLength": 21},
    "caller_id_name": {"type": "string", "maxLength": 64},
    "settings": {"type": "object", "description": "dial rules and run-time settings (outbound/campaign_settings.py)"},
    "starts_at": {"type": ["string", "null"], "format": "date-time"},
    "ends_at": {"type": ["string", "null"], "format": "date-time"},
}
NEW_CAMPAIGN = closed({"name": NAME, **_FIELDS}, ("name",))
CHANGE_CAMPAIGN = closed(_FIELDS, (), minProperties=1)
_FIELD_TEXT = {"type": "string", "maxLength": 1000}
NEW_CONTACTS = closed(
    {
        "list": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S",
                 "description": "contact list to add to (created for this campaign if new; default <campaign>-api)"},
        "default_region": {"type": "string", "pattern": "^[A-Z]{2}$",
                           "description": "region of numbers written without +country code (default US)"},
        "contacts": {"type": "array", "minItems": 1, "maxItems": MAX_CONTACTS, "items": closed(
            {"phone": {"type": "string", "maxLength": 64}, "name": {"type": "string", "maxLength": 200},
             "timezone": {"type": "string", "maxLength": 64},
             "fields": {"type": "object", "maxProperties": 50, "additionalProperties": _FIELD_TEXT}},
            ("phone",),
        )},
    },
    ("contacts",),
)

_EVENTS = {"start": CampaignEvent.START, "pause": CampaignEvent.PAUSE, "stop": CampaignEvent.STOP}


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _render(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "display_name": row["display_name"], "state": row["state"],
        "mode": row["mode"], "compliance_profile": row["compliance_profile"], "queue": row["queue_name"],
        "caller_id_number": row["caller_id_number"], "caller_id_name": row["caller_id_name"],
        "settings": row["settings"] or {}, "starts_at": _iso(row["starts_at"]), "ends_at": _iso(row["ends_at"]),
        "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
    }


def _load(cur: Any, campaign_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = campaign_sql.campaign(cur, campaign_id, lock=lock)
    if row is None:
        raise ApiError(404, "campaign-not-found", f"no campaign {campaign_id}")
    return row


def _columns(req: ApiRequest, body: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the request's fields against the whole campaign they produce."""
    fields = {("queue_name" if k == "queue" else k): v for k, v in body.items() if k != "name"}
    for key in ("starts_at", "ends_at"):
        if fields.get(key) is not None:
            fields[key] = parse_time(fields[key], key)
    merged = {**current, **fields}
    check_settings(merged["mode"], merged["compliance_profile"], merged["settings"] or {},
                   site_zone=req.services.settings.site_timezone)
    check_caller_id(merged["caller_id_number"], merged["caller_id_name"])
    if merged.get("starts_at") and merged.get("ends_at") and merged["ends_at"] <= merged["starts_at"]:
        raise ApiError(422, "validation-failed", "ends_at: must be after starts_at", field="ends_at")
    return fields


_DEFAULTS: dict[str, Any] = {"mode": "progressive", "compliance_profile": "default", "settings": {}, "caller_id_number": "",
             "caller_id_name": "", "queue_name": "", "display_name": "", "starts_at": None, "ends_at": None}


@api_operation("GET", "/campaigns", summary="List campaigns", tag="campaigns", scope="read",
               params=(query_param("state", {"enum": _STATES}), *PAGING),
               responses={200: ("Campaigns, newest first", page_schema(ref("Campaign")))})
def list_campaigns(req: ApiRequest) -> Reply:
    states = [CampaignState(req.query["state"])] if "state" in req.query else None
    with req.services.db.transaction() as cur:
        rows = campaign_sql.campaigns(cur, states)
    return page(req, lambda n, skip: rows[skip:skip + n], _render)


@api_operation("POST", "/campaigns", summary="Create a campaign", tag="campaigns", scope="campaigns",
               body=NEW_CAMPAIGN, conflicts=True, responses={201: ("The campaign (a draft)", ref("Campaign"))})
def create_campaign(req: ApiRequest) -> Reply:
    """``settings`` is validated as a whole (calling window, retries, AMD ...); a wrong
    value answers 422 with ``field`` = ``settings.<key>``. 409 when the name is taken."""
    fields = _columns(req, req.body, _DEFAULTS)
    with req.services.db.transaction() as cur:
        if campaign_sql.campaign_id_by_name(cur, req.body["name"]) is not None:
            raise ApiError(409, "campaign-exists", f"a campaign named {req.body['name']!r} exists; choose another name")
        campaign_id = campaign_sql.create_campaign(cur, req.body["name"], fields)
        row = _load(cur, campaign_id)
    return _render(row), 201


@api_operation("GET", "/campaigns/{campaign_id}", summary="One campaign", tag="campaigns", scope="read",
               params=(CAMPAIGN_ID,), responses={200: ("The campaign", ref("Campaign"))})
def get_campaign(req: ApiRequest) -> Reply:
    with req.services.db.transaction() as cur:
        return _render(_load(cur, req.path["campaign_id"]))


@api_operation("PATCH", "/campaigns/{campaign_id}", summary="Change a campaign", tag="campaigns",
               scope="campaigns", params=(CAMPAIGN_ID,), body=CHANGE_CAMPAIGN,
               responses={200: ("The campaign", ref("Campaign"))})
def update_campaign(req: ApiRequest) -> Reply:
    with req.services.db.transaction() as cur:
        current = _load(cur, req.path["campaign_id"], lock=True)
        campaign_sql.update_campaign(cur, current["id"], _columns(req, req.body, current))
        return _render(_load(cur, current["id"]))


@api_operation("DELETE", "/campaigns/{campaign_id}", summary="Delete a campaign", tag="campaigns",
               scope="campaigns", params=(CAMPAIGN_ID,), conflicts=True,
               responses={204: ("Deleted with its attempts; its lists stay, detached", None)})
def delete_campaign(req: ApiRequest) -> Reply:
    """Only a campaign that is not running or paused can be deleted (409 otherwise)."""
    with req.services.db.transaction() as cur:
        row = _load(cur, req.path["campaign_id"], lock=True)
        if row["state"] in ("running", "paused"):
            raise ApiError(409, "campaign-state-conflict", f"the campaign is {row['state']}; stop it first")
        cur.execute("DELETE FROM outbound_campaigns WHERE id = %s", (row["id"],))
    return "", 204


def _change_state(req: ApiRequest, action: str) -> dict[str, Any]:
    """Through the dialer, as the campaign page does: the same start checks, audit entry
    and ``campaign.changed`` event whoever presses the button."""
    campaign_id = req.path["campaign_id"]
    event = _EVENTS[action]
    if action == "start":
        with req.services.db.transaction() as cur:
            if CampaignState(_load(cur, campaign_id)["state"]) is CampaignState.PAUSED:
                event = CampaignEvent.RESUME
    token = req.token
    try:
        req.services.dialer.control(campaign_id, event, actor=req.actor,
                                    actor_id=token.id if token is not None else None, actor_type="token")
    except OutboundError as exc:
        raise ApiError(exc.status, exc.error_id, exc.message) from exc
    with req.services.db.transaction() as cur:
        return _render(_load(cur, campaign_id))


@api_operation("POST", "/campaigns/{campaign_id}/start", summary="Start (or resume) a campaign", tag="campaigns",
               scope="campaigns", params=(CAMPAIGN_ID,), conflicts=True,
               responses={200: ("The campaign, now running", ref("Campaign"))})
def start_campaign(req: ApiRequest) -> Reply:
    """From draft, scheduled or paused; 409 from any other state."""
    return _change_state(req, "start")


@api_operation("POST", "/campaigns/{campaign_id}/pause", summary="Pause a running campaign", tag="campaigns",
               scope="campaigns", params=(CAMPAIGN_ID,), conflicts=True,
               responses={200: ("The campaign, paused (calls in progress finish)", ref("Campaign"))})
def pause_campaign(req: ApiRequest) -> Reply:
    return _change_state(req, "pause")


@api_operation("POST", "/campaigns/{campaign_id}/stop", summary="Stop a campaign", tag="campaigns",
               scope="campaigns", params=(CAMPAIGN_ID,), conflicts=True,
               responses={200: ("The campaign, stopped", ref("Campaign"))})
def stop_campaign(req: ApiRequest) -> Reply:
    return _change_state(req, "stop")


def _contact_rows(body: Mapping[str, Any], region: str) -> tuple[dict[str, ContactRow], list[dict[str, Any]]]:
    """Good rows by number (a repeated number merges into the first) and bad ones."""
    good: dict[str, ContactRow] = {}
    bad: list[dict[str, Any]] = []
    for index, item in enumerate(body["contacts"]):
        field_names = list(item.get("fields", {}))
        try:
            mapping = ColumnMapping(phone="\x00phone", name="\x00name", timezone="\x00timezone",
                                    fields={k: k for k in field_names})
        except ImportFileError as exc:  # an unusable custom field name
            bad.append({"index": index, "reason": str(exc)})
            continue
        values = {"\x00phone": item["phone"], "\x00name": item.get("name", ""),
                  "\x00timezone": item.get("timezone", ""), **item.get("fields", {})}
        result = read_row(index, values, mapping, region)
        if isinstance(result, ContactRow):
            kept = good.get(result.e164)
            good[result.e164] = result if kept is None else ContactRow(
                kept.row_number, kept.e164, result.name or kept.name, result.timezone or kept.timezone,
                {**kept.fields, **result.fields})
        else:
            bad.append({"index": index, "reason": result.reason.replace("\x00", "")})
    return good, bad


def _list_id(cur: Any, campaign: Mapping[str, Any], name: str, region: str) -> int:
    cur.execute(
        """INSERT INTO outbound_contact_lists (name, campaign_id, default_region) VALUES (%s, %s, %s)
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, campaign_id""",
        (name, campaign["id"], region),
    )
    row = cur.fetchone()
    if row["campaign_id"] is None:
        campaign_sql.attach_list(cur, row["id"], campaign["id"])
    elif row["campaign_id"] != campaign["id"]:
        raise ApiError(409, "list-taken", f"contact list {name!r} belongs to campaign {row['campaign_id']}; "
                       "give another list name", field="list")
    return int(row["id"])


@api_operation("POST", "/campaigns/{campaign_id}/contacts", summary="Add contacts to a campaign",
               tag="campaigns", scope="campaigns", params=(CAMPAIGN_ID,), body=NEW_CONTACTS, conflicts=True,
               responses={200: ("What was added, merged and refused (bad rows by index, with why)",
                                ref("ContactsAdded"))})
def add_contacts(req: ApiRequest) -> Reply:
    """Numbers are normalised to E.164 with ``default_region``; a number already in the
    list is merged (fields combined, state kept); bad rows are reported, the rest added."""
    region = req.body.get("default_region", "US")
    if not is_known_region(region):
        raise ApiError(422, "validation-failed", f"default_region: unknown region {region!r}", field="default_region")
    good, bad = _contact_rows(req.body, region)
    with req.services.db.transaction() as cur:
        campaign = _load(cur, req.path["campaign_id"])
        list_id = _list_id(cur, campaign, req.body.get("list") or f"{campaign['name']}-api", region)
        inserted = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO outbound_contacts (list_id, e164, name, timezone, fields) VALUES %s
               ON CONFLICT (list_id, e164) DO UPDATE SET
                   name = COALESCE(NULLIF(EXCLUDED.name, ''), outbound_contacts.name),
                   timezone = COALESCE(EXCLUDED.timezone, outbound_contacts.timezone),
                   fields = outbound_contacts.fields || EXCLUDED.fields, updated_at = now()
               RETURNING (xmax = 0) AS inserted""",
            [(list_id, c.e164, c.name, c.timezone, json.dumps(c.fields)) for c in good.values()],
            template="(%s, %s, %s, %s, %s::jsonb)", fetch=True,
        ) if good else []
    added = sum(1 for r in inserted if r["inserted"])
    return {"list_id": list_id, "received": len(req.body["contacts"]), "added": added,
            "merged": len(req.body["contacts"]) - len(bad) - added, "bad": bad}


@api_operation("GET", "/campaigns/{campaign_id}/stats", summary="Campaign figures", tag="campaigns",
               scope="read", params=(CAMPAIGN_ID,), responses={200: ("Contacts by state, attempts by outcome",
                                                                     ref("CampaignStats"))})
def campaign_stats(req: ApiRequest) -> Reply:
    """``abandon_rate_today`` is the compliance figure of the campaign's rule set for
    today (null when the campaign's settings cannot be read)."""
    with req.services.db.transaction() as cur:
        row = _load(cur, req.path["campaign_id"])
        contacts = campaign_sql.contact_counts(cur, row["id"])
        cur.execute("SELECT outcome, count(*) AS n FROM outbound_attempts WHERE campaign_id = %s GROUP BY outcome",
                    (row["id"],))
        attempts = {r["outcome"]: int(r["n"]) for r in cur.fetchall()}
        rate = _abandon_rate_today(req, cur, row)
    return {"campaign_id": row["id"], "state": row["state"], "contacts": contacts, "attempts": attempts,
            "abandon_rate_today": rate}


def _abandon_rate_today(req: ApiRequest, cur: Any, row: Mapping[str, Any]) -> float | None:
    try:
        rules, _runtime = check_settings(row["mode"], row["compliance_profile"], row["settings"] or {},
                                         site_zone=req.services.settings.site_timezone)
    except OutboundError:
        return None
    figures = compliance_figures(cur, row["id"], rules, counter_day(rules, datetime.now(UTC)))
    return round(figures[0].rate.rate, 4) if figures else None
