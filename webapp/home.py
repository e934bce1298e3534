"""The landing page after sign-in: where each role can go (probes are in webapp/ops.py)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.auth import login_required

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required()
def index():
    return render_template("home.html")
