from __future__ import annotations

import re

import pytest

from cti.users import upsert_user
from webapp import create_app


@pytest.fixture(scope="module")
def app(services):
    with services.db.transaction() as cur:
        upsert_user(cur, "ana", roles=("agent",), display_name="Ana", password="correct horse")
        upsert_user(cur, "boss", roles=("admin",), password="battery staple")
    flask_app, _ = create_app(services)
    return flask_app


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)})


def test_pages_require_sign_in(app) -> None:
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_and_out(app) -> None:
    client = app.test_client()
    response = sign_in(client, "ana", "correct horse")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Ana" in page and "Agent" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(app) -> None:
    client = app.test_client()
    response = sign_in(client, "ana", "wrong")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(app) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "ana", "password": "correct horse"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_repeated_failures_are_throttled(app) -> None:
    client = app.test_client()
    statuses = [sign_in(client, "boss", "guess").status_code for _ in range(7)]
    assert statuses[:6] == [401] * 6
    assert statuses[6] == 429
    # Even the right password waits until the lock expires.
    assert sign_in(client, "boss", "battery staple").status_code == 429


def test_open_redirect_after_sign_in_is_ignored(app) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "ana", "password": "correct horse", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_socketio_connection_without_session_is_refused(app) -> None:
    socketio = app.extensions["cti_socketio"]
    anonymous = socketio.test_client(app)
    assert not anonymous.is_connected()
    client = app.test_client()
    sign_in(client, "ana", "correct horse")
    signed_in = socketio.test_client(app, flask_test_client=client)
    assert signed_in.is_connected()
    signed_in.disconnect()
