"""Operations endpoints: liveness, readiness and Prometheus metrics.

* ``/healthz``: the process answers (no dependency checked). For a liveness probe.
* ``/readyz``: the database answers and every configured FreeSWITCH link is up;
  otherwise 503 with what is wrong. For a readiness probe / load balancer.
* ``/metrics``: Prometheus text (:mod:`cti.metrics`). Protected: a scraper either sends
  an API token with the ``metrics`` (or ``admin``) scope as ``Authorization: Bearer
  <token>`` (Prometheus' ``authorization`` scrape setting), or scrapes from an address
  listed in ``CTI_METRICS_ALLOW`` (comma-separated CIDRs, e.g. ``127.0.0.1/32,10.0.0.0/8``;
  empty by default, so a token is required).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from cti.metrics import MetricsCollector, render
from cti.tokens import parse_cidrs
from webapp.api.auth import authenticate
from webapp.api.errors import ApiError

bp = Blueprint("ops", __name__)

METRICS_ALLOW_SETTING = "CTI_METRICS_ALLOW"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _services() -> Any:
    return current_app.extensions["cti"]


@bp.route("/healthz")
def healthz():
    """Process alive (no dependencies checked; see /readyz)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    services = _services()
    problems: list[str] = []
    checks: dict[str, str] = {}
    checks["database"] = "ok" if services.db.ping() else "unreachable"
    if checks["database"] != "ok":
        problems.append("the database does not answer")
    core = getattr(services, "core", None)
    for client in core.switches if core is not None else ():
        up = client.connected
        checks[f"switch:{client.node.name}"] = "connected" if up else "disconnected"
        if not up:
            problems.append(f"FreeSWITCH {client.node.name} ({client.node.address}) is not connected")
    if services.settings.esl_nodes and core is None:
        problems.append("switches are configured but the core is not running")
    if problems:
        return jsonify(status="not-ready", checks=checks, problems=problems), 503
    return jsonify(status="ready", checks=checks)


def _allowed_address() -> bool:
    allowed = current_app.extensions.get("cti_metrics_allow")
    if allowed is None:
        text = _services().settings.extra.get(METRICS_ALLOW_SETTING, "")
        allowed = parse_cidrs(p for p in text.split(",") if p.strip())
        current_app.extensions["cti_metrics_allow"] = allowed
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in allowed)


@bp.route("/metrics")
def metrics():
    services = _services()
    if not _allowed_address():
        try:
            authenticate(services, ("metrics",))
        except ApiError as exc:
            response = Response(exc.message + "\n", status=exc.status, mimetype="text/plain")
            response.headers.update(exc.headers)
            return response
    collector = current_app.extensions.get("cti_metrics")
    if collector is None:
        collector = current_app.extensions["cti_metrics"] = MetricsCollector(services)
    return Response(render(collector.collect()), content_type=CONTENT_TYPE)
