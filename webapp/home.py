"""The landing page after sign-in: where each role can go, and liveness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from webapp.auth import login_required

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required()
def index():
    return render_template("home.html")


@bp.route("/healthz")
def healthz():
    """Process alive (no dependencies checked; see /readyz)."""
    return jsonify(status="ok")
