"""Web clients for the agent tests: a signed-in Flask test client with its CSRF token,
and a Socket.IO test client on the same session."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO

#: Demo users of examples/site.yaml: the password of agentNNNN is agentNNNN.
PASSWORDS = {"admin": "admin123", "super1": "super123", "super2": "super123", "manager": "manager123"}


def password(username: str) -> str:
    return PASSWORDS.get(username, username)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "page without a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """A signed-in user: JSON calls carry the CSRF header like common.js's api()."""

    client: FlaskClient
    token: str

    def get(self, url: str, **kw: Any):
        return self.client.get(url, headers={"Accept": "application/json"}, **kw)

    def post(self, url: str, body: dict[str, Any] | None = None, *, csrf: bool = True):
        headers = {"Accept": "application/json", "X-CSRFToken": self.token} if csrf else {"Accept": "application/json"}
        return self.client.post(url, json=body or {}, headers=headers)


def sign_in(app: Flask, username: str) -> Browser:
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    response = client.post("/login", data={"username": username, "password": password(username), "csrf_token": token})
    assert response.status_code == 302, f"{username} could not sign in"
    return Browser(client, csrf_of(client.get("/").get_data(as_text=True)))


def socket_for(socketio: SocketIO, app: Flask, browser: Browser):
    return socketio.test_client(app, flask_test_client=browser.client)


def received(sock, name: str | None = None) -> list[dict[str, Any]]:
    """Messages received since the last call (optionally only those named ``name``)."""
    return [m for m in sock.get_received() if name is None or m["name"] == name]


class Inbox:
    """Everything a Socket.IO test client received (get_received() empties its queue)."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.messages: list[dict] = []

    def all(self) -> list[dict]:
        self.messages += self.sock.get_received()
        return self.messages

    def named(self, name: str) -> list[dict]:
        return [m["args"][0] for m in self.all() if m["name"] == name]
