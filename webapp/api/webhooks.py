"""Webhook subscriptions, managed by admins: CRUD, the outbox and delivery log,
redelivery. The secret is returned when a subscription is created (or its secret
changed) and never listed."""

from __future__ import annotations

from typing import Any

from webapp.api.errors import ApiError
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page
from webapp.api.schemas import ID, closed, ref
from webapp.api.schemas import page as page_schema

HOOK_ID = path_param("webhook_id", ID)
OUTBOX_ID = path_param("outbox_id", ID)

_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
    "url": {"type": "string", "minLength": 1, "maxLength": 2000},
    "events": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string", "minLength": 1,
                                                                          "maxLength": 100}},
    "secret": {"type": "string", "minLength": 16, "maxLength": 200},
    "active": {"type": "boolean"},
    "allow_private": {"type": "boolean", "description": "allow loopback/private/link-local targets (admin's choice)"},
}
NEW_HOOK = closed(_FIELDS, ("name", "url", "events"))
CHANGE_HOOK = closed(_FIELDS, (), minProperties=1)


def _dispatcher(req: ApiRequest) -> Any:
    dispatcher = getattr(req.services, "webhooks", None)
    if dispatcher is None:
        raise ApiError(503, "unavailable", "webhooks are not running in this process")
    return dispatcher


@api_operation("GET", "/webhooks", summary="List webhook subscriptions", tag="webhooks", scope="admin",
               params=PAGING, responses={200: ("Subscriptions (without secrets)", page_schema(ref("Webhook")))})
def list_webhooks(req: ApiRequest) -> Reply:
    subscriptions = _dispatcher(req).store.all()
    return page(req, lambda n, skip: subscriptions[skip:skip + n], lambda s: s.to_dict())


@api_operation("POST", "/webhooks", summary="Subscribe a URL to domain events", tag="webhooks", scope="admin",
               body=NEW_HOOK, responses={201: ("The subscription with its signing secret (shown once)",
                                               ref("Webhook"))})
def create_webhook(req: ApiRequest) -> Reply:
    """``events`` are patterns (``call.*``, ``agent.state_changed``, ``*``); each must
    match a type of ``GET /api/v1/events``. Targets on loopback, private or link-local
    addresses are refused unless ``allow_private`` is true."""
    subscription = _dispatcher(req).create_subscription(**req.body, created_by=req.actor)
    return subscription.to_dict(with_secret=True), 201


@api_operation("GET", "/webhooks/{webhook_id}", summary="One webhook subscription", tag="webhooks",
               scope="admin", params=(HOOK_ID,), responses={200: ("The subscription", ref("Webhook"))})
def get_webhook(req: ApiRequest) -> Reply:
    return _dispatcher(req).store.get(req.path["webhook_id"]).to_dict()


@api_operation("PATCH", "/webhooks/{webhook_id}", summary="Change a webhook subscription", tag="webhooks",
               scope="admin", params=(HOOK_ID,), body=CHANGE_HOOK,
               responses={200: ("The subscription (with the secret when it was changed)", ref("Webhook"))})
def update_webhook(req: ApiRequest) -> Reply:
    subscription = _dispatcher(req).update_subscription(req.path["webhook_id"], **req.body)
    return subscription.to_dict(with_secret="secret" in req.body)


@api_operation("DELETE", "/webhooks/{webhook_id}", summary="Delete a webhook subscription", tag="webhooks",
               scope="admin", params=(HOOK_ID,), responses={204: ("Deleted with its outbox and log", None)})
def delete_webhook(req: ApiRequest) -> Reply:
    _dispatcher(req).delete_subscription(req.path["webhook_id"])
    return "", 204


@api_operation("GET", "/webhooks/{webhook_id}/deliveries", summary="Delivery log", tag="webhooks",
               scope="admin", params=(HOOK_ID, *PAGING),
               responses={200: ("Attempts, newest first: response code, duration, error",
                                page_schema(ref("WebhookDelivery")))})
def list_deliveries(req: ApiRequest) -> Reply:
    dispatcher = _dispatcher(req)
    dispatcher.store.get(req.path["webhook_id"])
    return page(req, lambda n, skip: dispatcher.store.deliveries(req.path["webhook_id"], limit=n, offset=skip),
                lambda row: row)


@api_operation("GET", "/webhooks/{webhook_id}/outbox", summary="Events queued for a subscription", tag="webhooks",
               scope="admin",
               params=(HOOK_ID, query_param("status", {"enum": ["pending", "delivered", "failed"]}), *PAGING),
               responses={200: ("Outbox rows, newest first", page_schema(ref("WebhookOutboxEntry")))})
def list_outbox(req: ApiRequest) -> Reply:
    dispatcher = _dispatcher(req)
    dispatcher.store.get(req.path["webhook_id"])
    return page(req, lambda n, skip: dispatcher.store.outbox(req.path["webhook_id"], status=req.query.get("status"),
                                                              limit=n, offset=skip), lambda row: row)


@api_operation("POST", "/webhooks/{webhook_id}/outbox/{outbox_id}/redeliver", summary="Redeliver one event",
               tag="webhooks", scope="admin", params=(HOOK_ID, OUTBOX_ID),
               responses={200: ("Queued again with a fresh set of attempts", ref("WebhookOutboxEntry"))})
def redeliver(req: ApiRequest) -> Reply:
    return _dispatcher(req).redeliver(req.path["webhook_id"], req.path["outbox_id"])


@api_operation("POST", "/webhooks/{webhook_id}/redeliver-failed", summary="Redeliver every failed event",
               tag="webhooks", scope="admin", params=(HOOK_ID,),
               responses={200: ("How many were queued again", ref("Count"))})
def redeliver_failed(req: ApiRequest) -> Reply:
    return {"count": _dispatcher(req).redeliver_failed(req.path["webhook_id"])}
