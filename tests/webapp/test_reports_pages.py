"""The report pages through Flask's test client, on the real PostgreSQL, with the
report worker processes doing the work (see tests/webapp/test_reports_support.py for
the site and its calls)."""

from __future__ import annotations

import csv
import io
import re
import select
from collections.abc import Iterator
from typing import Any

import openpyxl
import pandas as pd
import pytest

from cti.config import load_settings
from reports.catalog import run_report
from tests.webapp.test_reports_support import DAY, PLAIN_CALLS, TZ, build_site, password
from webapp import create_app

NEXT_DAY = "2026-01-06"


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The conftest settings, on the site's zone (Asia/Shanghai) with one worker."""
    return load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("cti-data")), "CTI_DATABASE_URL": database_url,
                          "CTI_HTTP": "127.0.0.1:0", "CTI_SITE_TIMEZONE": TZ, "CTI_REPORTS_WORKERS": "1"})


@pytest.fixture(scope="module")
def site(services) -> dict[str, int]:
    return build_site(services.db)


@pytest.fixture(scope="module")
def app(services, site) -> Iterator[Any]:
    flask_app, _ = create_app(services, {"TESTING": True})
    yield flask_app
    flask_app.extensions["cti_report_workers"].stop()


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password(username), "csrf_token": token})
    assert response.status_code == 302
    return client


@pytest.fixture(scope="module")
def boss(app: Any) -> Any:
    return signed_in(app, "boss")


@pytest.fixture(scope="module")
def sup(app: Any) -> Any:
    return signed_in(app, "sup")


def day_query(**extra: str) -> dict[str, str]:
    return {"from": f"{DAY}T00:00", "to": f"{NEXT_DAY}T00:00", "interval": "day", **extra}


def table(page: str) -> tuple[list[str], list[list[str]]]:
    head = page.split('id="report-table"', 1)[1].split("</thead>", 1)[0]
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, flags=re.S)]
    body = page.split('id="report-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]
    return headers, rows


def column(page: str, header: str) -> list[str]:
    headers, rows = table(page)
    index = headers.index(header)
    return [row[index] for row in rows]


# -- who sees what ------------------------------------------------------------------------


def test_an_agent_is_refused(app: Any) -> None:
    client = signed_in(app, "ana")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/inbound_summary", query_string=day_query()).status_code == 403


def test_the_index_lists_what_each_role_may_open(app: Any, boss: Any, sup: Any) -> None:
    admin_page = boss.get("/reports/").get_data(as_text=True)
    assert "Queue summary" in admin_page and "IVR tree" in admin_page and "Campaign results" in admin_page
    sup_page = sup.get("/reports/").get_data(as_text=True)
    assert "Queue summary" in sup_page and "Erlang calculator" in sup_page
    assert "IVR tree" not in sup_page and "Campaign results" not in sup_page
    cm_page = signed_in(app, "cm").get("/reports/").get_data(as_text=True)
    assert "Campaign results" in cm_page and "Queue summary" not in cm_page


def test_a_supervisor_sees_only_their_queues(boss: Any, sup: Any) -> None:
    admin = boss.get("/reports/inbound_summary", query_string=day_query()).get_data(as_text=True)
    assert column(admin, "Queue") == ["sales", "support"]
    mine = sup.get("/reports/inbound_summary", query_string=day_query()).get_data(as_text=True)
    assert column(mine, "Queue") == ["sales"]
    refused = sup.get("/reports/inbound_summary", query_string=day_query(queue="support"))
    assert refused.status_code == 400
    assert "you may not report on queue support: yours are sales" in refused.get_data(as_text=True)


def test_a_supervisor_sees_only_their_agents(sup: Any, site: dict[str, int]) -> None:
    page = sup.get("/reports/agent_state_detail", query_string=day_query()).get_data(as_text=True)
    assert page.count("report-error") == 0
    refused = sup.get("/reports/agent_performance", query_string=day_query(agent_id="999"))
    assert refused.status_code == 400 and "you may not report on agent 999" in refused.get_data(as_text=True)


def test_reports_outside_the_role_are_forbidden(sup: Any) -> None:
    assert sup.get("/reports/ivr_tree", query_string=day_query()).status_code == 403
    assert sup.get("/reports/campaign_results/export.csv", query_string=day_query()).status_code == 403


# -- the numbers --------------------------------------------------------------------------


def test_kpis_are_formatted_and_match_the_report(boss: Any, services) -> None:
    page = boss.get("/reports/inbound_summary", query_string=day_query(queue="sales")).get_data(as_text=True)
    frame = run_report(services.db, "inbound_summary", start=DAY, end=NEXT_DAY, interval="day",
                       filters={"queue": "sales"}, tz=TZ)
    row = frame.iloc[0]
    assert (row["offered"], row["answered"], row["abandoned"]) == (3, 2, 1)
    assert column(page, "Interval") == [DAY]
    assert column(page, "Offered") == ["3"]
    assert column(page, "Service level") == [f"{row['service_level'] * 100:.1f}%"]  # 1 of 3 within 20 s
    assert column(page, "ASA") == ["0:20"]  # (15 + 25) / 2
    assert f"Time zone: {TZ}" in page


def test_intervals_without_calls_show_zeros_on_the_site_clock(boss: Any) -> None:
    query = {"from": f"{DAY}T09:00", "to": f"{DAY}T11:00", "interval": "30min", "queue": "sales"}
    page = boss.get("/reports/inbound_summary", query_string=query).get_data(as_text=True)
    assert column(page, "Interval") == [f"{DAY} 09:00", f"{DAY} 09:30", f"{DAY} 10:00", f"{DAY} 10:30"]
    assert column(page, "Offered") == ["1", "1", "1", "0"]
    assert column(page, "Service level")[3] == "\u2013"  # undefined, not 0%


def test_charts_come_with_the_page(boss: Any) -> None:
    query = {"from": f"{DAY}T00:00", "to": f"{NEXT_DAY}T00:00", "interval": "hour", "by": "none"}
    page = boss.get("/reports/inbound_summary", query_string=query).get_data(as_text=True)
    chart = re.search(r'id="report-chart-data">(.*?)</script>', page, flags=re.S).group(1)
    assert '"labels": ["2026-01-05 00:00"' in chart and '"Offered"' in chart and '"Service level"' in chart
    heat = page.split('id="report-heat-map"', 1)[1].split("</table>", 1)[0]
    monday = re.search(r"<th scope=\"row\">Mon</th>(.*?)</tr>", heat, flags=re.S).group(1)
    hours = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", monday, flags=re.S)]
    assert hours[9] == "3" and hours[10] == "1" and sum(int(h or 0) for h in hours) == 4


def test_the_ivr_tree_is_drawn_with_visits_exits_and_drop_offs(boss: Any) -> None:
    page = boss.get("/reports/ivr_tree", query_string=day_query()).get_data(as_text=True)
    tree = page.split('id="report-ivr"', 1)[1].split("</section>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", tree))
    assert "welcome play · 2 visits · 0 drop-offs" in text
    assert "menu menu · 2 visits · 1 drop-offs (50.0%)" in text
    assert "1 → 1 sales queue · 1 visits" in text
    assert "2 → 0 support" in text and "hangup → 1" in text


# -- paging and errors ----------------------------------------------------------------------


def test_the_call_detail_is_paged(boss: Any) -> None:
    first = boss.get("/reports/call_detail", query_string=day_query()).get_data(as_text=True)
    assert len(table(first)[1]) == 100 and "more rows follow" in first
    second = boss.get("/reports/call_detail", query_string=day_query(page="2")).get_data(as_text=True)
    total = 4 + PLAIN_CALLS + 2
    assert len(table(second)[1]) == total - 100
    assert f"101–{total} / {total} rows" in second and "more rows follow" not in second


@pytest.mark.parametrize(("query", "message"), [
    ({"from": f"{NEXT_DAY}T00:00", "to": f"{DAY}T00:00"}, "before it starts"),
    ({"nonsense": "1"}, "has no filter 'nonsense'"),
    ({"interval": "fortnight"}, "unknown interval 'fortnight'"),
    ({"quick": "someday"}, "unknown quick range 'someday'"),
])
def test_mistakes_are_shown_next_to_the_form(boss: Any, query: dict[str, str], message: str) -> None:
    response = boss.get("/reports/inbound_summary", query_string={**day_query(), **query})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'id="report-error">(.*?)</p>', page, flags=re.S).group(1)
    assert message in error.replace("&#39;", "'")
    assert 'id="report-form"' in page


def test_quick_ranges_fill_the_form(boss: Any) -> None:
    page = boss.get("/reports/inbound_summary", query_string={"quick": "yesterday"}).get_data(as_text=True)
    assert re.search(r'name="from" value="\d{4}-\d\d-\d\dT00:00"', page)
    assert 'id="report-results"' in page


def test_chinese_labels(boss: Any) -> None:
    boss.post("/lang/zh", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                        boss.get("/reports/").get_data(as_text=True)).group(1)})
    try:
        page = boss.get("/reports/inbound_summary", query_string=day_query()).get_data(as_text=True)
        assert "队列汇总" in page and "服务水平" in page and "呼入量" in page
    finally:
        token = re.search(r'name="csrf_token" value="([^"]+)"', boss.get("/reports/").get_data(as_text=True)).group(1)
        boss.post("/lang/en", data={"csrf_token": token})


# -- downloads ------------------------------------------------------------------------------


def test_csv_download_parses_back_to_the_same_numbers(boss: Any, services) -> None:
    response = boss.get("/reports/inbound_summary/export.csv", query_string=day_query(by="queue"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="inbound_summary_{DAY}_{NEXT_DAY}.csv"'
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"   # once, not "; charset=utf-8" twice
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    frame = run_report(services.db, "inbound_summary", start=DAY, end=NEXT_DAY, interval="day", by="queue", tz=TZ)
    assert [r["queue"] for r in rows] == frame["queue"].tolist()
    for row, (_, expected) in zip(rows, frame.iterrows(), strict=True):
        assert row["interval_start"] == f"{DAY}T00:00:00+08:00"
        assert int(row["offered"]) == expected["offered"]
        assert float(row["service_level"]) == pytest.approx(expected["service_level"])


def test_xlsx_download_parses_back_to_the_same_numbers(sup: Any, services) -> None:
    response = sup.get("/reports/inbound_summary/export.xlsx", query_string=day_query())
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(book["report"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert [dict(zip(header, r, strict=True))["queue"] for r in data] == ["sales"]  # the supervisor's scope
    record = dict(zip(header, data[0], strict=True))
    assert record["offered"] == 3 and record["answered"] == 2
    assert dict(book["about"].iter_rows(values_only=True))["tz"] == TZ


def test_the_call_detail_download_streams_every_row(boss: Any) -> None:
    response = boss.get("/reports/call_detail/export.csv", query_string=day_query())
    body = b"".join(response.response).decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(body))
    assert len(frame) == 4 + PLAIN_CALLS + 2


def test_a_bad_download_request_shows_the_form(boss: Any) -> None:
    response = boss.get("/reports/inbound_summary/export.csv", query_string=day_query(interval="fortnight"))
    assert response.status_code == 400
    assert "unknown interval" in response.get_data(as_text=True)


# -- staffing ------------------------------------------------------------------------------


def test_erlang_calculator_table_chart_and_download(sup: Any) -> None:
    query = {"start": "09:00", "minutes": "30", "calls": "100 0", "aht": "180", "target": "80", "threshold": "20",
             "patience": "60"}
    page = sup.get("/reports/erlang", query_string=query).get_data(as_text=True)
    assert column(page, "Interval") == ["09:00", "09:30"]
    # Classic example: 100 calls in 30 min, AHT 180 s, 80% in 20 s -> 14 agents (Erlang C).
    assert column(page, "Agents (Erlang C)") == ["14", "0"]
    erlang_a = int(column(page, "Agents (Erlang A)")[0])
    assert erlang_a <= 14
    assert 'id="report-chart-data"' in page
    download = sup.get("/reports/erlang/export.csv", query_string=query)
    rows = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert [r["agents_erlang_c"] for r in rows] == ["14", "0"]


def test_erlang_calculator_mistakes(sup: Any, app: Any) -> None:
    response = sup.get("/reports/erlang", query_string={"calls": "12 x 4"})
    assert response.status_code == 400
    assert "value 2 (&#39;x&#39;) is not a number" in response.get_data(as_text=True)
    assert signed_in(app, "cm").get("/reports/erlang").status_code == 403


STAFFING = {"from": "2026-01-12T09:00", "to": "2026-01-12T11:00", "interval": "30min", "by": "none"}


def test_staffing_forecast_states_its_method(boss: Any) -> None:
    page = boss.get("/reports/staffing", query_string={**STAFFING, "weeks": "1"}).get_data(as_text=True)
    assert "Forecast method:</strong> same weekday and interval, one week earlier" in page
    # Monday a week earlier: 09:00-09:30 two calls, 09:30 one, 10:00 one, 10:30 none.
    assert column(page, "Forecast calls") == ["2", "1", "1", "0"]
    # Stated once above the table, not as an English sentence on every row.
    assert "Method" not in table(page)[0]
    page = boss.get("/reports/staffing", query_string={**STAFFING, "weeks": "3"}).get_data(as_text=True)
    assert "same weekday and interval, mean of the last 3 weeks of history" in page
    download = boss.get("/reports/staffing/export.csv", query_string={**STAFFING, "weeks": "3"})
    rows = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert rows[0]["method"] == "same weekday and interval, mean of the last 3 weeks of history"


def test_the_staffing_method_in_chinese(boss: Any) -> None:
    boss.post("/lang/zh", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                        boss.get("/reports/").get_data(as_text=True)).group(1)})
    try:
        page = boss.get("/reports/staffing", query_string={**STAFFING, "weeks": "3"}).get_data(as_text=True)
        assert "预测方法:</strong> 同一星期几的同一时段，取最近 3 周历史数据的平均值" in page
        assert "same weekday" not in page
    finally:
        token = re.search(r'name="csrf_token" value="([^"]+)"', boss.get("/reports/").get_data(as_text=True)).group(1)
        boss.post("/lang/en", data={"csrf_token": token})


# -- the worker processes ---------------------------------------------------------------------


def test_an_abandoned_download_ends_its_worker_and_the_next_report_still_runs(app: Any, boss: Any) -> None:
    workers = app.extensions["cti_report_workers"]
    run = {"name": "call_detail", "start": DAY, "end": NEXT_DAY, "interval": "day", "by": None, "filters": {},
           "tz": TZ}
    stream = workers.stream("export", fmt="csv", **run)
    assert next(stream).startswith("\ufeffinterval_start".encode())
    busy = [w.process for w in workers._all]
    stream.close()  # the browser went away
    # The sentinel, not is_alive(): gevent reaps children before multiprocessing looks.
    assert select.select([p.sentinel for p in busy], [], [], 5.0)[0]
    page = boss.get("/reports/inbound_summary", query_string=day_query())
    assert page.status_code == 200 and column(page.get_data(as_text=True), "Queue") == ["sales", "support"]
