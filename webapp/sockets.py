"""Socket.IO: a connection without a valid signed-in session is refused.

Each user joins a room of their own (``user:<id>``); agents also ``agent:<id>`` and
supervisors ``queue:<name>`` for the queues they supervise, so every push goes only to
those allowed to see it.
"""

from __future__ import annotations

import logging

from flask import session
from flask_socketio import SocketIO, join_room

from cti.services import Services
from cti.users import get_user

log = logging.getLogger(__name__)


def register(socketio: SocketIO, services: Services) -> None:
    @socketio.on("connect")
    def _connect(auth=None):  # noqa: ANN001 - Flask-SocketIO passes the client's auth payload
        user_id = session.get("user_id")
        user = get_user(services.db, user_id) if user_id else None
        if user is None:
            log.info("socket refused: no session")
            return False
        join_room(f"user:{user.id}")
        return True
