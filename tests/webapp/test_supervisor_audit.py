"""The audit log page for admins: filters, older pages, JSON, and the CSV export of the
same filter; nobody else may open it."""

from __future__ import annotations

import csv
import io
import re

import pytest

from cti.audit import Actor, record, refused
from cti.config import load_settings
from cti.provision import provision
from webapp import create_app

SITE = {"users": [{"username": "boss", "password": "boss-pw-123", "roles": ["admin"]},
                  {"username": "lead", "password": "lead-pw-123", "roles": ["supervisor"]}]}


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    return load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("cti-data")), "CTI_DATABASE_URL": database_url,
                          "CTI_HTTP": "127.0.0.1:0", "CTI_REPORTS_WORKERS": "1", "CTI_SITE_TIMEZONE": "Asia/Shanghai"})


@pytest.fixture(scope="module")
def app(services):
    provision(services.db, SITE)
    lead = Actor.user(2, "lead")
    record(services.db, lead, "call.listen", "call", "ix-1", {"mode": "listen"})
    record(services.db, lead, "call.force_hangup", "call", "ix-2", {}, refused("this call is not in your queues or teams"))
    record(services.db, lead, "agent.force_not_ready", "agent", 5, {"reason": "break"})
    app, _ = create_app(services)
    return app


def signed_in(app, services, username: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = services.db.fetchone("SELECT id FROM users WHERE username = %s", (username,))["id"]
    return client


def actions_on_page(html: str) -> list[str]:
    body = html.split('id="audit-rows"', 1)[1]
    return re.findall(r"<td>([a-z_]+\.[a-z_.]+)</td>", body)


def test_admins_filter_and_page_the_log(app, services) -> None:
    boss = signed_in(app, services, "boss")
    html = boss.get("/admin/audit/").get_data(as_text=True)
    assert actions_on_page(html) == ["agent.force_not_ready", "call.force_hangup", "call.listen"]
    assert '<th scope="col">Action</th>' in html, "the column is headed Action, not the filter's hint"
    assert "refused: this call is not in your queues or teams" in html
    assert actions_on_page(boss.get("/admin/audit/?action=call.").get_data(as_text=True)) == [
        "call.force_hangup", "call.listen"]
    assert actions_on_page(boss.get("/admin/audit/?result=refused").get_data(as_text=True)) == ["call.force_hangup"]
    first = boss.get("/admin/audit/?limit=2").get_data(as_text=True)
    older = re.search(r'href="([^"]+before=[0-9]+[^"]*)"', first).group(1).replace("&amp;", "&")
    assert actions_on_page(boss.get(older).get_data(as_text=True)) == ["call.listen"]
    rows = boss.get("/admin/audit/?target_type=agent", headers={"Accept": "application/json"}).get_json()["rows"]
    assert [(r["action"], r["target_id"], r["details"]) for r in rows] == [("agent.force_not_ready", "5",
                                                                          {"reason": "break"})]


def test_a_bad_filter_is_shown_next_to_the_form(app, services) -> None:
    reply = signed_in(app, services, "boss").get("/admin/audit/?from=yesterday")
    assert reply.status_code == 400
    assert "from: give a date" in reply.get_data(as_text=True)


def test_csv_export_of_the_filter(app, services) -> None:
    reply = signed_in(app, services, "boss").get("/admin/audit/export.csv?actor=lead&action=call.")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    table = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert [(r["action"], r["target_id"], r["result"]) for r in table] == [
        ("call.force_hangup", "ix-2", "refused: this call is not in your queues or teams"),
        ("call.listen", "ix-1", "ok")]
    assert table[0]["at"].endswith("+08:00")            # the site's zone


def test_only_admins(app, services) -> None:
    lead = signed_in(app, services, "lead")
    assert lead.get("/admin/audit/").status_code == 403
    assert lead.get("/admin/audit/export.csv").status_code == 403
    assert app.test_client().get("/admin/audit/").status_code == 302
