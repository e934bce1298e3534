"""Contact import against the real PostgreSQL: CSV and XLSX, bad rows, duplicates,
merging into a list, custom fields, progress, and a large file in bounded memory."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import gevent
import openpyxl
import pytest

from cti.db import Database
from outbound import store
from outbound.contacts_import import MAX_FILE_NAME, ImportProgress, display_name, import_contacts
from outbound.errors import ImportFileError, UnknownContactList
from outbound.import_rows import ColumnMapping

MAPPING = ColumnMapping.parse("phone=Phone,name=Name,timezone=TZ,account=Account,plan=Plan")
_names = itertools.count(1)


@pytest.fixture
def list_id(db: Database) -> int:
    row = db.fetchone("INSERT INTO outbound_contact_lists (name) VALUES (%s) RETURNING id", (f"list-{next(_names)}",))
    assert row is not None
    return int(row["id"])


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


HEADER = ["Phone", "Name", "TZ", "Account", "Plan"]
SAMPLE = [
    HEADER,
    ["(415) 555-0100", "Ann", "", "A1", "gold"],            # row 2: good
    ["not a number", "Bob", "", "A2", ""],                 # row 3: bad phone
    ["+1 212 555 0101", "Cid", "Mars/Base", "A3", ""],      # row 4: bad zone
    ["", "", "", "", ""],                                  # row 5: empty
    ["415.555.0100", "", "America/Chicago", "", "silver"],  # row 6: duplicate of row 2
    ["+44 7911 123456", "Dee\nsecond line", "", "A5", ""],  # row 7: good, multi-line cell
    ["+1 312 555 0102", "Eve", "", "A6", "", "surplus"],    # row 8: ragged
    ["+13125550103", "Fay", "", "A7", ""],                 # row 9: good
]


def issues(db: Database, job_id: int) -> dict[int, tuple[str, str]]:
    rows = db.fetchall("SELECT row_number, kind, reason FROM outbound_import_issues WHERE job_id = %s", (job_id,))
    return {r["row_number"]: (r["kind"], r["reason"]) for r in rows}


def contacts(db: Database, list_id: int) -> dict[str, dict[str, object]]:
    rows = db.fetchall("SELECT * FROM outbound_contacts WHERE list_id = %s", (list_id,))
    return {r["e164"]: r for r in rows}


def test_csv_import_reports_every_row(db: Database, database_url: str, list_id: int, tmp_path: Path) -> None:
    seen: list[ImportProgress] = []
    report = import_contacts(database_url, list_id, write_csv(tmp_path / "c.csv", SAMPLE), MAPPING,
                             progress=seen.append, chunk_rows=3)
    assert (report.rows_read, report.imported, report.merged, report.duplicates, report.bad) == (8, 3, 0, 1, 4)
    assert report.imported + report.merged + report.duplicates + report.bad == report.rows_read

    found = issues(db, report.job_id)
    assert set(found) == {3, 4, 5, 6, 8}
    assert found[3] == ("bad", "Phone: not a phone number")
    assert found[4][0] == "bad" and "unknown time zone 'Mars/Base'" in found[4][1]
    assert found[5] == ("bad", "empty row")
    assert found[6][0] == "duplicate" and found[6][1].startswith("duplicate of row 2 (same number +14155550100)")
    assert found[8][0] == "bad" and "more values than the header" in found[8][1]
    assert [(i.row_number, i.kind) for i in report.issues] == [(3, "bad"), (4, "bad"), (5, "bad"),
                                                               (6, "duplicate"), (8, "bad")]

    people = contacts(db, list_id)
    assert set(people) == {"+14155550100", "+447911123456", "+13125550103"}
    ann = people["+14155550100"]
    # Row 6 merged into row 2: row 2's values win (plan gold, not silver); row 6 only
    # filled the time zone row 2 left empty.
    assert ann["name"] == "Ann" and ann["timezone"] == "America/Chicago"
    assert ann["fields"] == {"account": "A1", "plan": "gold"}
    assert ann["state"] == "new" and ann["source_row"] == 2 and ann["import_job_id"] == report.job_id
    assert people["+447911123456"]["name"] == "Dee\nsecond line"

    job = db.fetchone("SELECT * FROM outbound_import_jobs WHERE id = %s", (report.job_id,))
    assert job is not None
    assert (job["status"], job["rows_read"], job["rows_imported"], job["rows_duplicate"], job["rows_bad"]) == (
        "done", 8, 3, 1, 4)
    assert job["file_format"] == "csv" and job["mapping"]["fields"] == {"account": "Account", "plan": "Plan"}
    assert job["file_name"] == "c.csv"

    assert [p.status for p in seen][0] == "running" and seen[-1].status == "done"
    reads = [p.rows_read for p in seen]
    assert reads == sorted(reads) and reads[-1] == 8
    assert seen[-1].imported == 3 and seen[-1].duplicates == 1 and all(p.job_id == report.job_id for p in seen)


def test_duplicates_written_two_ways_keep_the_first_row(db: Database, database_url: str, list_id: int,
                                                         tmp_path: Path) -> None:
    """The report line says "duplicate of row 2": the stored contact is row 2's, a
    duplicate only filling what row 2 left empty, and the counts put each row where
    its line does (a duplicate, not a merge into an existing contact)."""
    rows = [
        HEADER,
        ["020 7123 4567", "Ann", "", "A1", ""],                           # row 2
        ["+44 20 7123 4567", "Duplicate Ann", "Europe/London", "A9", "gold"],  # row 3: same number
        ["+44 7911 123456", "Bea", "", "B1", ""],                         # row 4
        ["0207 123 4567", "", "", "", "silver"],                          # row 5: same number again
    ]
    report = import_contacts(database_url, list_id, write_csv(tmp_path / "dupes.csv", rows), MAPPING,
                             default_region="GB")
    assert (report.rows_read, report.imported, report.merged, report.duplicates, report.bad) == (4, 2, 0, 2, 0)
    assert [(i.row_number, i.kind) for i in report.issues] == [(3, "duplicate"), (5, "duplicate")]
    assert report.issues[0].reason == ("duplicate of row 2 (same number +442071234567): row 2 kept, "
                                       "this row only filled what it left empty")
    ann = contacts(db, list_id)["+442071234567"]
    assert (ann["name"], ann["source_row"]) == ("Ann", 2)
    assert ann["timezone"] == "Europe/London"                        # row 2 had none: row 3's
    assert ann["fields"] == {"account": "A1", "plan": "gold"}        # row 3's plan came before row 5's
    job = db.fetchone("SELECT rows_imported, rows_merged, rows_duplicate FROM outbound_import_jobs WHERE id = %s",
                      (report.job_id,))
    assert job == {"rows_imported": 2, "rows_merged": 0, "rows_duplicate": 2}


def test_the_job_keeps_the_name_the_user_gave_the_file(db: Database, database_url: str, list_id: int,
                                                        tmp_path: Path) -> None:
    stored = write_csv(tmp_path / "f78a0c1d9e2b4a5f8c3d2e1f0a9b8c7d.csv", [HEADER, ["4155550100", "Ann", "", "", ""]])
    report = import_contacts(database_url, list_id, stored, MAPPING, file_name="C:\\Users\\ann\\Spring list.csv")
    job = db.fetchone("SELECT file_name FROM outbound_import_jobs WHERE id = %s", (report.job_id,))
    assert job == {"file_name": "Spring list.csv"}


@pytest.mark.parametrize(("sent", "shown"), [
    ("people.csv", "people.csv"),
    ("C:\\fakepath\\people.csv", "people.csv"),
    ("../../etc/people.csv", "people.csv"),
    ("evil\u202egpj.csv", "evilgpj.csv"),                  # no right-to-left override
    ("two\nlines\t.csv", "two lines .csv"),
    ("名单 2026.xlsx", "名单 2026.xlsx"),
    ("", "stored.csv"),
    ("..", "stored.csv"),
    ("x" * 200 + ".csv", "…" + ("x" * 200 + ".csv")[-(MAX_FILE_NAME - 1):]),
])
def test_display_name(sent: str, shown: str) -> None:
    assert display_name(sent, "stored.csv") == shown
    assert len(display_name(sent, "stored.csv")) <= MAX_FILE_NAME


def test_reimport_merges_into_existing_contacts(db: Database, database_url: str, list_id: int,
                                               tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [HEADER, ["4155550100", "Ann", "", "A1", ""]])
    import_contacts(database_url, list_id, first, MAPPING)
    db.execute("UPDATE outbound_contacts SET state = 'done', final_outcome = 'sale' WHERE list_id = %s", (list_id,))
    second = write_csv(tmp_path / "b.csv", [HEADER, ["+14155550100", "", "", "", "gold"],
                                            ["+14155550104", "New", "", "", ""]])
    report = import_contacts(database_url, list_id, second, MAPPING)
    assert (report.imported, report.merged, report.duplicates, report.bad) == (1, 1, 0, 0)
    assert report.issues[0].kind == "merged" and "already in the list" in report.issues[0].reason
    ann = contacts(db, list_id)["+14155550100"]
    assert ann["name"] == "Ann" and ann["fields"] == {"account": "A1", "plan": "gold"}
    assert ann["state"] == "done" and ann["final_outcome"] == "sale"   # merging never resets a contact


def test_xlsx_import(db: Database, database_url: str, list_id: int, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Phone", "Name", "Account", "Since"])
    sheet.append([4155550100, "Ann", 1001, None])          # a number typed into Excel
    sheet.append(["+44 7911 123456", "Dee", "B2", None])
    sheet.append(["nope", "Bob", "B3", None])
    sheet.append([None, None, None, None])
    sheet.append(["+1 212 555 0101", "Cid", "B5", None, "stray"])
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    mapping = ColumnMapping.parse("phone=Phone,name=Name,account=Account")
    report = import_contacts(database_url, list_id, path, mapping)
    assert (report.rows_read, report.imported, report.bad) == (5, 2, 3)
    assert {(i.row_number, i.reason.split(":")[0]) for i in report.issues} == {
        (4, "Phone"), (5, "empty row"), (6, "row has more values than the header's 4 columns; check quoting and the delimiter")}
    people = contacts(db, list_id)
    assert people["+14155550100"]["fields"] == {"account": "1001"}
    job = db.fetchone("SELECT file_format FROM outbound_import_jobs WHERE id = %s", (report.job_id,))
    assert job == {"file_format": "xlsx"}


def test_semicolon_csv_with_a_byte_order_mark(db: Database, database_url: str, list_id: int,
                                             tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("\ufeffPhone;Name\n+14155550100;Ann\n", encoding="utf-8")
    report = import_contacts(database_url, list_id, path, ColumnMapping.parse("phone=Phone,name=Name"))
    assert report.imported == 1 and contacts(db, list_id)["+14155550100"]["name"] == "Ann"


def test_a_missing_mapped_column_fails_the_job_and_says_which(db: Database, database_url: str, list_id: int,
                                                              tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [["Mobile", "Name"], ["4155550100", "Ann"]])
    with pytest.raises(ImportFileError, match="column 'Phone' is not in the file; its columns are: 'Mobile', 'Name'"):
        import_contacts(database_url, list_id, path, MAPPING)
    job = db.fetchone("SELECT status, error FROM outbound_import_jobs WHERE list_id = %s", (list_id,))
    assert job is not None and job["status"] == "failed" and "'Phone'" in job["error"]
    assert contacts(db, list_id) == {}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.pdf", b"%PDF", "expected a .csv or .xlsx file"),
        ("latin.csv", "Phone,Name\n4155550100,Jos\xe9\n".encode("latin-1"), "save it as 'CSV UTF-8'"),
        ("broken.xlsx", b"not a zip", "not a readable .xlsx workbook"),
        ("dup.csv", b"Phone,Phone\n1,2\n", "appears twice in the header"),
    ],
)
def test_unusable_files(database_url: str, list_id: int, tmp_path: Path, name: str, content: bytes,
                        message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        import_contacts(database_url, list_id, path, ColumnMapping.parse("phone=Phone"))


def test_unknown_list(database_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", SAMPLE)
    with pytest.raises(UnknownContactList, match="contact list 999999 does not exist"):
        import_contacts(database_url, 999999, path, MAPPING)


def _big_rows(count: int) -> Iterator[str]:
    yield "Phone,Name,Account\n"
    for i in range(count):
        if i % 1000 == 7:
            yield f"bad-{i},Bad,{i}\n"
        else:
            n = i % 190_000          # numbers repeat after 190k rows: duplicates to merge
            yield f"+1415{200 + n // 10_000}{n % 10_000:04d},Person {i},{i}\n"


@pytest.mark.slow
def test_200k_rows_import_in_bounded_memory(db: Database, database_url: str, list_id: int, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(_big_rows(200_000))
    report = import_contacts(database_url, list_id, path, ColumnMapping.parse("phone=Phone,name=Name,acct=Account"),
                             chunk_rows=10_000)
    assert report.rows_read == 200_000
    assert report.bad == 200
    assert report.imported + report.merged + report.duplicates + report.bad == 200_000
    assert report.duplicates > 9000
    count = db.fetchone("SELECT count(*) AS n FROM outbound_contacts WHERE list_id = %s", (list_id,))
    assert count == {"n": report.imported}
    # A generous absolute bound: the worker holds one chunk, not the file.
    assert report.worker_max_rss_kb < 400_000


def test_the_import_does_not_block_other_greenlets(database_url: str, list_id: int, tmp_path: Path) -> None:
    ticks: list[int] = []
    running = True

    def ticker() -> None:
        while running:
            ticks.append(1)
            gevent.sleep(0.01)

    worker = gevent.spawn(ticker)
    gevent.sleep(0)
    before = len(ticks)
    import_contacts(database_url, list_id, write_csv(tmp_path / "c.csv", SAMPLE), MAPPING)
    during = len(ticks) - before
    running = False
    worker.join()
    # The import spawns a process and waits for it with a cooperative select: the
    # ticker kept running meanwhile. A blocked hub would have let it tick at most once.
    assert during > 5


def test_job_and_report_pages_for_the_cli_and_the_web(db: Database, database_url: str, tmp_path: Path) -> None:
    with db.transaction() as cur:
        created = store.contact_list_id(cur, "spring-promo", create=True, default_region="GB")
        assert store.contact_list_id(cur, "spring-promo", create=True) == created
        assert store.contact_list_id(cur, "spring-promo") == created
        assert store.contact_list_id(cur, "no-such-list") is None
    assert created is not None
    report = import_contacts(database_url, created, write_csv(tmp_path / "c.csv", SAMPLE), MAPPING)
    with db.transaction() as cur:
        job = store.import_job(cur, report.job_id)
        first = store.import_issues(cur, report.job_id, limit=2)
        rest = store.import_issues(cur, report.job_id, after_row=first[-1]["row_number"])
        assert store.import_job(cur, -1) is None
    assert job is not None and job["status"] == "done" and job["rows_bad"] == 4
    assert [i["row_number"] for i in first + rest] == [3, 4, 5, 6, 8]
    assert first[0]["raw"] == {"Phone": "not a number", "Name": "Bob", "Account": "A2"}
