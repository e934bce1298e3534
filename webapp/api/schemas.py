"""The JSON Schemas of the API's resources: published in the OpenAPI document
(``components.schemas``) and used by :mod:`webapp.api.validation` for requests, so the
two never disagree. Draft 2020-12 (OpenAPI 3.1).

Response schemas list the fields integrators may rely on (``required``) and leave room
for fields added later (no ``additionalProperties: false`` on responses); request
schemas are closed, so a misspelt field is an error instead of being ignored.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1

ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
UUIDISH: dict[str, Any] = {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z-]{0,63}$"}
NAME: dict[str, Any] = {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}
TEXT: dict[str, Any] = {"type": "string", "maxLength": 2000}
TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_ID: dict[str, Any] = {"type": ["integer", "null"]}
NUMBER_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[0-9+*#() .-]+$"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page(item: dict[str, Any]) -> dict[str, Any]:
    """A page of a list: ``items`` and the ``next`` page's URL (null on the last page)."""
    return {
        "type": "object", "required": ["items", "next"],
        "properties": {"items": {"type": "array", "items": item}, "next": {"type": ["string", "null"]}},
    }


def closed(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A request object: only these fields, ``required`` ones mandatory."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False, **extra}


def _obj(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


AGENT_LIVE = _obj(
    ("id", "state", "reason", "extension", "since", "interaction_id"),
    id=ID, state={"type": "string"}, reason={"type": "string"}, extension={"type": "string"},
    dial_string={"type": "string"}, since=TIME, interaction_id={"type": ["string", "null"]},
    leg_uuid={"type": ["string", "null"]}, direction={"type": "string"}, forced_by={"type": "string"},
    wrapup={"type": ["object", "null"]},
)

COMPONENTS: dict[str, Any] = {
    "Error": _obj(("error",), error=_obj(
        ("code", "message", "field"),
        code={"type": "string"}, message={"type": "string"}, field={"type": ["string", "null"]},
    )),
    "AgentLive": AGENT_LIVE,
    "Agent": _obj(
        ("id", "code", "name", "default_extension", "team", "queues", "live"),
        id=ID, code={"type": "string"}, name={"type": "string"}, username={"type": "string"},
        default_extension={"type": "string"}, team={"type": ["string", "null"]},
        queues={"type": "array", "items": {"type": "string"}},
        live={"anyOf": [ref("AgentLive"), {"type": "null"}]},
    ),
    "Queue": _obj(
        ("name", "display_name", "waiting", "longest_wait_seconds", "members", "agents"),
        name={"type": "string"}, display_name={"type": "string"}, waiting={"type": "integer", "minimum": 0},
        longest_wait_seconds={"type": "number", "minimum": 0}, members={"type": "integer", "minimum": 0},
        agents={"type": "object", "additionalProperties": {"type": "integer"}},
        engine={"type": ["object", "null"]},
    ),
    "WaitingCall": _obj(
        ("interaction_id", "position", "state", "caller_number", "wait_seconds"),
        interaction_id={"type": "string"}, position={"type": "integer", "minimum": 1}, state={"type": "string"},
        caller_number={"type": "string"}, caller_name={"type": "string"}, priority={"type": "integer"},
        queue_entered_at=TIME, wait_seconds={"type": "number", "minimum": 0},
    ),
    "Interaction": {"allOf": [ref("InteractionSummary"), _obj(
        ("legs", "timeline"),
        legs={"type": "array", "items": {"type": "object"}},
        timeline={"type": "array", "items": _obj(("at", "type"), at=TIME, type={"type": "string"})},
        recordings={"type": "array", "items": {"type": "object"}},
    )]},
    "InteractionSummary": _obj(
        ("id", "direction", "state", "outcome", "caller_number", "callee_number", "queue", "agent_id",
         "started_at", "ended_at"),
        id={"type": "string"}, node={"type": "string"}, direction={"type": "string"}, state={"type": "string"},
        outcome={"type": "string"}, did={"type": "string"}, caller_number={"type": "string"},
        caller_name={"type": "string"}, callee_number={"type": "string"}, campaign_id=NULLABLE_ID,
        contact_id=NULLABLE_ID, queue={"type": "string"}, agent_id=NULLABLE_ID, started_at=TIME,
        answered_at=TIME, ended_at=TIME, talk_seconds={"type": "number"}, hold_seconds={"type": "number"},
        disposition={"type": "string"}, notes={"type": "string"}, hangup_cause={"type": "string"},
    ),
    "CallCommandResult": _obj(("ok", "interaction_id"), ok={"type": "boolean"},
                              interaction_id={"type": ["string", "null"]}, detail={"type": "object"}),
    "Customer": _obj(
        ("id", "name", "company", "vip", "tags", "notes", "email", "numbers"),
        id=ID, name={"type": "string"}, company={"type": "string"}, vip={"type": "boolean"},
        tags={"type": "array", "items": {"type": "string"}}, notes={"type": "string"}, email={"type": "string"},
        numbers={"type": "array", "items": _obj(("number", "label"), number={"type": "string"},
                                                label={"type": "string"})},
    ),
    "CustomerLookup": _obj(("number", "customer", "history"), number={"type": "string"},
                           customer={"anyOf": [ref("Customer"), {"type": "null"}]},
                           history={"type": "array", "items": {"type": "object"}}),
    "Recording": _obj(
        ("id", "interaction_id", "agent_id", "queue", "started_at", "ended_at", "duration_ms", "audio"),
        id={"type": "string"}, interaction_id={"type": "string"}, agent_id=NULLABLE_ID, queue={"type": "string"},
        caller_number={"type": "string"}, started_at=TIME, ended_at=TIME,
        duration_ms={"type": ["integer", "null"]}, size_bytes={"type": ["integer", "null"]},
        paused_ms={"type": "integer"}, audio={"type": ["string", "null"]},
    ),
    "Voicemail": _obj(
        ("id", "box", "caller_number", "event_code", "status", "created_at", "audio"),
        id={"type": "string"}, box={"type": "string"}, interaction_id={"type": ["string", "null"]},
        caller_number={"type": "string"}, event_code={"type": "string"}, duration_ms={"type": ["integer", "null"]},
        status={"type": "string"}, assigned_agent_id=NULLABLE_ID, created_at=TIME, handled_at=TIME,
        handled_by=NULLABLE_ID, audio={"type": ["string", "null"]},
    ),
    "Campaign": _obj(
        ("id", "name", "display_name", "state", "mode", "compliance_profile", "queue", "settings"),
        id=ID, name={"type": "string"}, display_name={"type": "string"}, state={"type": "string"},
        mode={"type": "string"}, compliance_profile={"type": "string"}, queue={"type": "string"},
        caller_id_number={"type": "string"}, caller_id_name={"type": "string"}, settings={"type": "object"},
        starts_at=TIME, ends_at=TIME, created_at=TIME, updated_at=TIME,
    ),
    "CampaignStats": _obj(
        ("campaign_id", "state", "contacts", "attempts"),
        campaign_id=ID, state={"type": "string"},
        contacts={"type": "object", "additionalProperties": {"type": "integer"}},
        attempts={"type": "object", "additionalProperties": {"type": "integer"}},
        abandon_rate_today={"type": ["number", "null"]},
    ),
    "ContactsAdded": _obj(
        ("list_id", "received", "added", "merged", "bad"),
        list_id=ID, received={"type": "integer"}, added={"type": "integer"}, merged={"type": "integer"},
        bad={"type": "array", "items": _obj(("index", "reason"), index={"type": "integer"},
                                            reason={"type": "string"})},
    ),
    "ReportInfo": _obj(("name", "title", "group_by", "filters", "uses_interval"),
                       name={"type": "string"}, title={"type": "string"},
                       group_by={"type": "array", "items": {"type": "string"}},
                       filters={"type": "array", "items": {"type": "string"}}, uses_interval={"type": "boolean"}),
    "Report": _obj(("report", "title", "from", "to", "interval", "by", "columns", "rows"),
                   report={"type": "string"}, title={"type": "string"}, **{"from": {"type": "string"}},
                   to={"type": "string"}, interval={"type": "string"}, by={"type": "array", "items": {"type": "string"}},
                   columns={"type": "array", "items": {"type": "string"}},
                   rows={"type": "array", "items": {"type": "object"}}),
    "Token": _obj(
        ("id", "name", "prefix", "scopes", "allowed_cidrs", "rate_per_minute", "expires_at", "revoked_at",
         "last_used_at", "status"),
        id=ID, name={"type": "string"}, prefix={"type": "string"},
        scopes={"type": "array", "items": {"type": "string"}},
        allowed_cidrs={"type": "array", "items": {"type": "string"}}, rate_per_minute={"type": "integer"},
        expires_at=TIME, revoked_at=TIME, created_at=TIME, created_by=NULLABLE_ID, last_used_at=TIME,
        last_used_ip={"type": "string"}, status={"type": "string", "enum": ["active", "expired", "revoked"]},
    ),
    "NewToken": {"allOf": [ref("Token"), _obj(("token",), token={"type": "string"})]},
    "Webhook": _obj(
        ("id", "name", "url", "events", "active", "allow_private"),
        id=ID, name={"type": "string"}, url={"type": "string"}, events={"type": "array", "items": {"type": "string"}},
        active={"type": "boolean"}, allow_private={"type": "boolean"}, created_by={"type": "string"},
        created_at=TIME, updated_at=TIME, secret={"type": "string"},
    ),
    "WebhookDelivery": _obj(
        ("id", "outbox_id", "event_id", "event_type", "attempt", "at", "status_code", "duration_ms", "error"),
        id=ID, outbox_id=ID, event_id={"type": "string"}, event_type={"type": "string"},
        attempt={"type": "integer"}, at=TIME, status_code={"type": ["integer", "null"]},
        duration_ms={"type": "number"}, error={"type": "string"},
    ),
    "WebhookOutboxEntry": _obj(
        ("id", "event_id", "event_type", "status", "attempts"),
        id=ID, subscription_id=ID, event_id={"type": "string"}, event_type={"type": "string"},
        interaction_id={"type": ["string", "null"]},
        status={"type": "string", "enum": ["pending", "delivered", "failed"]}, attempts={"type": "integer"},
        next_attempt_at=TIME, last_status_code={"type": ["integer", "null"]}, last_error={"type": "string"},
        created_at=TIME, delivered_at=TIME,
    ),
    "EventType": _obj(("type", "description"), type={"type": "string"}, description={"type": "string"}),
    "Count": _obj(("count",), count={"type": "integer", "minimum": 0}),
}
