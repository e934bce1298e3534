"""``cti contacts import``: progress, counts and the bad-row report on the terminal."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cti.db import Database
from outbound import campaign_sql
from outbound.cli import import_command
from outbound.errors import ImportFileError, UnknownCampaign

ROWS = [
    ["Phone", "Name", "Plan"],
    ["+44 7911 123456", "Ann", "gold"],
    ["not a number", "Bob", ""],
    ["+44 7911 123457", "Cid", ""],
    ["07911 123456", "Ann again", ""],
]


def contact_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    return path


def test_import_prints_progress_and_the_bad_rows(db: Database, tmp_path: Path) -> None:
    with db.transaction() as cur:
        campaign_id = campaign_sql.create_campaign(cur, "cli-campaign", {})
    lines: list[str] = []
    report = import_command(db, contact_file(tmp_path), list_name="cli-list", mapping="phone=Phone,name=Name,plan=Plan",
                            region="gb", campaign="cli-campaign", echo=lines.append, chunk_rows=2)
    assert (report.imported, report.duplicates, report.bad) == (2, 1, 1)
    assert lines[0].startswith("running: ") and any(line.startswith("done: 4 rows read") for line in lines)
    assert "imported 2 new contacts into list 'cli-list' from contacts.csv" in lines[-3]
    assert "1 duplicates in the file" in lines[-3]
    assert lines[-2:] == ["bad rows (row number as in the spreadsheet, header = row 1):",
                          "  row 3: Phone: not a phone number"]
    row = db.fetchone("SELECT id, campaign_id, default_region FROM outbound_contact_lists WHERE name = 'cli-list'")
    assert row is not None and (row["campaign_id"], row["default_region"]) == (campaign_id, "GB")
    ann = db.fetchone("SELECT name FROM outbound_contacts WHERE list_id = %s AND e164 = '+447911123456'", (row["id"],))
    assert ann == {"name": "Ann"}, "row 5 (the same number) is a duplicate of row 2: row 2 kept"


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"mapping": "name=Name"}, ImportFileError),
    ({"region": "XX"}, ImportFileError),
    ({"campaign": "no-such-campaign"}, UnknownCampaign),
])
def test_mistakes_are_explained(db: Database, tmp_path: Path, kwargs: dict[str, str], error: type[Exception]) -> None:
    args = {"list_name": "cli-bad", "mapping": "phone=Phone", **kwargs}
    with pytest.raises(error):
        import_command(db, contact_file(tmp_path), echo=lambda _line: None, **args)


def test_the_cti_command(db: Database, database_url: str, tmp_path: Path) -> None:
    """The real entry point in a process of its own: it installs gevent's psycopg2 wait
    callback, which the import worker (a spawned child that re-imports it) must undo."""
    cti = Path(sys.executable).parent / "cti"
    env = {**os.environ, "CTI_DATABASE_URL": database_url, "CTI_DATA_DIR": str(tmp_path), "CTI_LOG_LEVEL": "WARNING"}
    args = [str(cti), "contacts", "import", str(contact_file(tmp_path)), "--list", "cli-command"]
    result = subprocess.run([*args, "--map", "phone=Phone,name=Name", "--region", "GB"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "imported 2 new contacts into list 'cli-command'" in result.stdout
    assert "row 3: Phone: not a phone number" in result.stdout
    failed = subprocess.run([*args, "--map", "phone=Telephone"], env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and "column 'Telephone' is not in the file" in failed.stderr
