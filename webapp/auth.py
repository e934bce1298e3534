"""Sign-in, sign-out and the role checks every page and socket goes through.

Sessions are Flask's signed cookies holding only the user id; the user (and so their
roles) is reloaded from the database on every request, so a deactivated user or a role
change takes effect at once. Forms carry a CSRF token (Flask-WTF); failed sign-ins are
throttled per username and per address.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from cti.users import User, authenticate, get_user
from webapp.errors import error_response

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def services():
    return current_app.extensions["cti"]


def current_user() -> User | None:
    """The signed-in user of this request, or None."""
    if "user" not in g:
        user_id = session.get("user_id")
        g.user = get_user(services().db, user_id) if user_id else None
    return g.user


def login_required(*roles: str) -> Callable[[F], F]:
    """Refuse the view unless signed in, and (when roles are given) holding one of them.

    Admins pass every role check. Pages redirect to sign-in; JSON callers get 401/403.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith("/api/") or request.is_json:
                    return error_response(401, "not-signed-in", "Sign in first.")
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not user.has_role(*roles):
                return error_response(403, "forbidden", "Your role does not allow this page.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        throttles = current_app.extensions["cti_throttle"]
        keys = {"user": username.lower(), "ip": request.remote_addr or ""}
        wait = max(throttles[kind].retry_after(key) for kind, key in keys.items())
        if wait > 0:
            error, status = "too_many_attempts", 429
            log.warning("sign-in throttled", extra={"username": username, "ip": request.remote_addr})
        else:
            user = authenticate(services().db, username, password)
            if user is None:
                for kind, key in keys.items():
                    throttles[kind].failed(key)
                error, status = "bad_credentials", 401
                log.info("sign-in failed", extra={"username": username, "ip": request.remote_addr})
            else:
                throttles["user"].succeeded(keys["user"])
                session.clear()
                session["user_id"] = user.id
                session["lang"] = user.language
                session.permanent = True
                log.info("signed in", extra={"user": user.username, "ip": request.remote_addr})
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
