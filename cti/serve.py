"""``cti serve``: the production process (the demo runs the same code with a simulated switch)."""

from __future__ import annotations

import logging

from cti.config import Settings
from cti.runtime import run_until_signalled
from cti.services import build_services

log = logging.getLogger(__name__)


def run_serve(settings: Settings) -> None:
    from webapp import create_app

    services = build_services(settings)
    app, _socketio = create_app(services)
    run_until_signalled(services, app)
