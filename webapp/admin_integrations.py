"""Admin pages for integrations: API tokens (create -- the token is shown once --,
list, revoke) and webhook subscriptions (create -- the secret is shown once --, edit,
delete, the delivery log, redelivery, and the explicit "allow private target" box).

Admins only; every form carries the CSRF token (Flask-WTF), every change is written
to ``audit_log`` with the admin as actor.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from cti.tokens import SCOPES, TokenError
from cti.users import User
from cti.webhook_store import WebhookError
from webapp.api.auth import token_store
from webapp.auth import current_user, login_required
from webapp.errors import error_response
from webapp.i18n import add_labels
from webapp.nav import NavItem, add_nav_item

bp = Blueprint("admin_integrations", __name__, url_prefix="/admin/integrations")

add_nav_item(NavItem("nav_integrations", "admin_integrations.index", ("admin",), order=90))
add_labels({
    "nav_integrations": {"en": "Integrations", "zh": "集成"},
    "int_tokens": {"en": "API tokens", "zh": "API 令牌"},
    "int_webhooks": {"en": "Webhooks", "zh": "Webhook 订阅"},
    "int_name": {"en": "Name", "zh": "名称"},
    "int_scopes": {"en": "Scopes", "zh": "权限范围"},
    "int_cidrs": {"en": "Allowed addresses (CIDRs, comma separated; empty = any)",
                  "zh": "允许的地址（CIDR，逗号分隔；留空 = 不限）"},
    "int_expires": {"en": "Expires (optional)", "zh": "过期时间（可选）"},
    "int_rate": {"en": "Requests per minute", "zh": "每分钟请求数"},
    "int_create_token": {"en": "Create token", "zh": "创建令牌"},
    "int_token_once": {"en": "Copy this token now: it will not be shown again.",
                       "zh": "请立即复制此令牌：之后将不再显示。"},
    "int_secret_once": {"en": "Signing secret (shown once; it signs every delivery):",
                        "zh": "签名密钥（只显示一次；用于签名每次推送）："},
    "int_revoke": {"en": "Revoke", "zh": "吊销"},
    "int_status": {"en": "Status", "zh": "状态"},
    "int_status_active": {"en": "active", "zh": "有效"},
    "int_status_revoked": {"en": "revoked", "zh": "已吊销"},
    "int_status_expired": {"en": "expired", "zh": "已过期"},
    "int_last_used": {"en": "Last used", "zh": "最近使用"},
    "int_url": {"en": "URL", "zh": "URL"},
    "int_events": {"en": "Events (patterns, comma separated: call.*, agent.state_changed, *)",
                   "zh": "事件（模式，逗号分隔：call.*、agent.state_changed、*）"},
    "int_active": {"en": "Active", "zh": "启用"},
    "int_allow_private": {"en": "Allow private target (loopback, private or link-local address)",
                          "zh": "允许内网目标（回环、私有或链路本地地址）"},
    "int_create_webhook": {"en": "Add subscription", "zh": "添加订阅"},
    "int_save": {"en": "Save", "zh": "保存"},
    "int_delete": {"en": "Delete", "zh": "删除"},
    "int_deliveries": {"en": "Delivery log", "zh": "推送记录"},
    "int_failed": {"en": "Failed deliveries", "zh": "失败的推送"},
    "int_redeliver": {"en": "Redeliver", "zh": "重新推送"},
    "int_redeliver_failed": {"en": "Redeliver all failed", "zh": "重新推送全部失败项"},
    "int_attempt": {"en": "Attempt", "zh": "次数"},
    "int_code": {"en": "Response", "zh": "响应"},
    "int_duration": {"en": "ms", "zh": "毫秒"},
    "int_error": {"en": "Error", "zh": "错误"},
    "int_event": {"en": "Event", "zh": "事件"},
    "int_at": {"en": "At", "zh": "时间"},
    "int_edit": {"en": "Details", "zh": "详情"},
    "int_backlog": {"en": "Pending / failed deliveries", "zh": "待推送 / 失败"},
})


def _services() -> Any:
    return current_app.extensions["cti"]


def _admin() -> User:
    """The signed-in admin (every view here is behind ``login_required("admin")``)."""
    user = current_user()
    assert user is not None
    return user


def _audit(action: str, target_type: str, target_id: Any, details: dict[str, Any] | None = None,
           *, refused: str = "") -> None:
    """One audit row; a refused change is audited too, with why (``refused: ...``)."""
    user = _admin()
    _services().db.execute(
        """INSERT INTO audit_log (actor_type, actor_id, actor_name, action, target_type, target_id, details, result)
           VALUES ('user', %s, %s, %s, %s, %s, %s::jsonb, %s)""",
        (user.id, user.username, action, target_type, str(target_id), json.dumps(details or {}),
         f"refused: {refused}" if refused else "ok"),
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _page(status: int = 200, **shown: Any):
    services = _services()
    now = datetime.now(UTC)
    context = {
        "tokens": [t.to_dict(now) for t in token_store().all()],
        "webhooks": [s.to_dict() for s in services.webhooks.store.all()],
        "backlog": services.webhooks.store.backlog(),
        "scopes": SCOPES, "form": request.form, **shown,
    }
    return render_template("admin_integrations.html", **context), status


#: Seconds a just-created secret waits to be shown on the page the browser is sent to.
REVEAL_SECONDS = 120


def _reveals() -> dict[str, tuple[int, dict[str, str], float]]:
    """Secrets just created (API tokens, webhook secrets) by one-time reveal id:
    (admin, what the page shows, created at). In memory only: a token's text is never
    stored, and a restart simply loses the chance to see it (revoke and create another)."""
    return current_app.extensions.setdefault("cti_secret_reveals", {})


def _redirect_to_reveal(shown: dict[str, str]):
    """POST/redirect/GET: the secret is shown on the page the browser is sent to, so a
    reload of that page never creates a second token or subscription."""
    reveal_id = secrets.token_urlsafe(16)
    _reveals()[reveal_id] = (_admin().id, shown, time.monotonic())
    return redirect(url_for(".index", reveal=reveal_id), 303)


def _reveal_once(reveal_id: str) -> dict[str, str]:
    """What ``reveal_id`` shows, to the admin who created it, once."""
    now = time.monotonic()
    reveals = _reveals()
    for stale in [k for k, (_, _, at) in reveals.items() if now - at > REVEAL_SECONDS]:
        del reveals[stale]
    found = reveals.get(reveal_id)
    if found is None or found[0] != _admin().id:
        return {}
    del reveals[reveal_id]
    return found[1]


@bp.route("/")
@login_required("admin")
def index():
    return _page(**_reveal_once(request.args.get("reveal", "")))


@bp.route("/tokens", methods=["POST"])
@login_required("admin")
def create_token():
    form = request.form
    try:
        site_zone = ZoneInfo(_services().settings.site_timezone)
        expires = datetime.fromisoformat(form["expires_at"]).replace(tzinfo=site_zone) if form.get("expires_at") else None
        rate = int(form.get("rate_per_minute") or 600)
        token, text = token_store().create(
            form.get("name", ""), form.getlist("scopes"), allowed_cidrs=_split(form.get("allowed_cidrs", "")),
            expires_at=expires, rate_per_minute=rate, created_by=_admin().id,
        )
    except ValueError as exc:  # TokenError is a ValueError, so are bad dates and numbers
        message = str(exc) if isinstance(exc, TokenError) else f"check the expiry date and the rate: {exc}"
        _audit("admin.token.create", "token", "", {"name": form.get("name", "")}, refused=message)
        return _page(422, token_error=message)
    _audit("admin.token.create", "token", token.id, {"name": token.name, "scopes": list(token.scopes)})
    return _redirect_to_reveal({"new_token": text, "new_token_name": token.name})


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required("admin")
def revoke_token(token_id: int):
    try:
        token = token_store().revoke(token_id)
    except TokenError as exc:
        return error_response(exc.status, exc.error_id, str(exc))
    _audit("admin.token.revoke", "token", token.id, {"name": token.name})
    return redirect(url_for(".index"))


def _hook_fields(form: Any) -> dict[str, Any]:
    return {"name": form.get("name", ""), "url": form.get("url", ""), "events": _split(form.get("events", "")),
            "active": form.get("active") == "on", "allow_private": form.get("allow_private") == "on"}


@bp.route("/webhooks", methods=["POST"])
@login_required("admin")
def create_webhook():
    try:
        hook = _services().webhooks.create_subscription(**_hook_fields(request.form),
                                                        created_by=f"user:{_admin().username}")
    except WebhookError as exc:
        _audit("admin.webhook.create", "webhook", "", {"url": request.form.get("url", "")}, refused=str(exc))
        return _page(422, webhook_error=str(exc))
    _audit("admin.webhook.create", "webhook", hook.id, {"url": hook.url, "allow_private": hook.allow_private})
    return _redirect_to_reveal({"new_secret": hook.secret, "new_secret_name": hook.name})


def _detail(webhook_id: int, status: int = 200, **shown: Any):
    store = _services().webhooks.store
    try:
        hook = store.get(webhook_id)
    except WebhookError as exc:
        return error_response(exc.status, exc.error_id, str(exc))
    return render_template(
        "admin_webhook.html", hook=hook.to_dict(), deliveries=store.deliveries(webhook_id, limit=100),
        failed=store.outbox(webhook_id, status="failed", limit=100), **shown,
    ), status


@bp.route("/webhooks/<int:webhook_id>")
@login_required("admin")
def webhook(webhook_id: int):
    return _detail(webhook_id)


@bp.route("/webhooks/<int:webhook_id>", methods=["POST"])
@login_required("admin")
def update_webhook(webhook_id: int):
    fields = _hook_fields(request.form)
    if request.form.get("secret"):
        fields["secret"] = request.form["secret"]
    try:
        hook = _services().webhooks.update_subscription(webhook_id, **fields)
    except WebhookError as exc:
        if exc.status == 404:
            return error_response(404, exc.error_id, str(exc))
        _audit("admin.webhook.update", "webhook", webhook_id, {"url": fields["url"]}, refused=str(exc))
        return _detail(webhook_id, 422, webhook_error=str(exc))
    _audit("admin.webhook.update", "webhook", hook.id, {"url": hook.url, "active": hook.active,
                                                        "allow_private": hook.allow_private})
    return redirect(url_for(".webhook", webhook_id=webhook_id))


@bp.route("/webhooks/<int:webhook_id>/delete", methods=["POST"])
@login_required("admin")
def delete_webhook(webhook_id: int):
    try:
        _services().webhooks.delete_subscription(webhook_id)
    except WebhookError as exc:
        return error_response(exc.status, exc.error_id, str(exc))
    _audit("admin.webhook.delete", "webhook", webhook_id)
    return redirect(url_for(".index"))


@bp.route("/webhooks/<int:webhook_id>/redeliver/<int:outbox_id>", methods=["POST"])
@login_required("admin")
def redeliver(webhook_id: int, outbox_id: int):
    try:
        _services().webhooks.redeliver(webhook_id, outbox_id)
    except WebhookError as exc:
        return error_response(exc.status, exc.error_id, str(exc))
    _audit("admin.webhook.redeliver", "webhook", webhook_id, {"outbox_id": outbox_id})
    return redirect(url_for(".webhook", webhook_id=webhook_id))


@bp.route("/webhooks/<int:webhook_id>/redeliver-failed", methods=["POST"])
@login_required("admin")
def redeliver_failed(webhook_id: int):
    try:
        count = _services().webhooks.redeliver_failed(webhook_id)
    except WebhookError as exc:
        return error_response(exc.status, exc.error_id, str(exc))
    _audit("admin.webhook.redeliver_failed", "webhook", webhook_id, {"count": count})
    return redirect(url_for(".webhook", webhook_id=webhook_id))
