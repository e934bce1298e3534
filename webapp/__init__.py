"""The web app: agent desktop, supervisor wallboard, campaign manager, reports,
admin, the REST API and the Socket.IO live pushes, one blueprint per area.

:func:`create_app` is the second composition root (the first builds services in
:mod:`cti.services`): it builds Flask + Flask-SocketIO over a running
:class:`cti.services.Services` and nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from cti.services import Services
from webapp import i18n, nav, sockets
from webapp.auth import current_user
from webapp.errors import register_error_handlers
from webapp.throttle import FREE_ATTEMPTS_PER_ADDRESS, FREE_ATTEMPTS_PER_USERNAME, LoginThrottle

#: One module per area, each exposing ``bp`` (a Blueprint).
BLUEPRINTS: tuple[str, ...] = ("auth", "home", "api", "ops", "admin_integrations", "reports", "supervisor", "supervisor_actions", "quality",
                                 "admin_audit", "campaigns", "agent", "media")


def create_app(services: Services, test_config: dict[str, Any] | None = None) -> tuple[Flask, SocketIO]:
    """Build the Flask app and its Socket.IO server over ``services``."""
    app = Flask(__name__, static_folder=str(_repo_path("static")), static_url_path="/static")
    app.config.update(
        SECRET_KEY=services.settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["cti"] = services
    app.extensions["cti_throttle"] = {
        "user": LoginThrottle(FREE_ATTEMPTS_PER_USERNAME),
        "ip": LoginThrottle(FREE_ATTEMPTS_PER_ADDRESS),
    }
    CSRFProtect(app)
    i18n.init_app(app)
    nav.init_app(app)
    register_error_handlers(app)
    areas = [importlib.import_module(f"webapp.{name}") for name in BLUEPRINTS]
    for area in areas:
        app.register_blueprint(area.bp)
    app.context_processor(lambda: {"user": current_user()})
    app.add_url_rule("/vendor/<path:filename>", "vendor", _vendor_file)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)

    socketio = SocketIO(app, async_mode="gevent", cors_allowed_origins=[], logger=False, engineio_logger=False)
    sockets.register(socketio, services)
    for area in areas:   # an area with live pushes of its own registers them over the same server
        if hasattr(area, "register_socketio"):
            area.register_socketio(app, socketio, services)
    app.extensions["cti_socketio"] = socketio
    return app, socketio


def _repo_path(name: str):
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / name


# Front-end packages come from npm (installed by `make`), never copied by hand.
_VENDOR_FILES = {
    "socket.io.esm.min.js": "node_modules/socket.io-client/dist/socket.io.esm.min.js",
    "socket.io.esm.min.js.map": "node_modules/socket.io-client/dist/socket.io.esm.min.js.map",
    "chart.umd.min.js": "node_modules/chart.js/dist/chart.umd.min.js",
    "chart.umd.min.js.map": "node_modules/chart.js/dist/chart.umd.min.js.map",
}


def _favicon():
    """Browsers and tools ask for /favicon.ico whatever the page links: the same SVG."""
    from flask import send_file

    return send_file(_repo_path("static") / "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def _vendor_file(filename: str):
    from flask import abort, send_file

    relative = _VENDOR_FILES.get(filename)
    path = _repo_path(relative) if relative else None
    if path is None or not path.exists():
        abort(404)
    return send_file(path, max_age=3600)
