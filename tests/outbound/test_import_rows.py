"""Column mapping and the validation of one contact row."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from outbound.errors import ImportFileError
from outbound.import_rows import ColumnMapping, ContactRow, RowIssue, cell_text, read_row

MAPPING = ColumnMapping(phone="Phone", name="Name", timezone="TZ", fields={"account": "Account", "plan": "Plan"})


def test_mapping_from_the_cli_spec() -> None:
    mapping = ColumnMapping.parse('phone=Phone, name=Full Name,timezone=TZ,account=Account No,"notes=Notes, internal"')
    assert mapping.phone == "Phone" and mapping.name == "Full Name" and mapping.timezone == "TZ"
    assert mapping.fields == {"account": "Account No", "notes": "Notes, internal"}
    assert mapping.columns() == ["Phone", "Full Name", "TZ", "Account No", "Notes, internal"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("name=Name", "which column holds the phone number"),
        ("phone", "write KEY=Column"),
        ("phone=Phone,phone=Mobile", "mapped twice"),
        ("phone=Phone,bad key!=X", "custom field name"),
    ],
)
def test_bad_mapping_specs(spec: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        ColumnMapping.parse(spec)


def test_missing_column_lists_the_columns_there_are() -> None:
    with pytest.raises(ImportFileError) as info:
        MAPPING.check_header(["Phone", "Name", "Account"])
    assert "'TZ' is not in the file" in info.value.message and "'Account'" in info.value.message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"Phone": "(415) 555-0100", "Name": "Ann", "TZ": "", "Account": "A1", "Plan": ""},
         ContactRow(2, "+14155550100", "Ann", None, {"account": "A1"})),
        ({"Phone": "+44 7911 123456", "Name": "", "TZ": "Europe/London", "Account": "", "Plan": "gold"},
         ContactRow(2, "+447911123456", "", "Europe/London", {"plan": "gold"})),
    ],
)
def test_good_rows(values: dict[str, str], expected: ContactRow) -> None:
    assert read_row(2, values, MAPPING, "US") == expected


@pytest.mark.parametrize(
    ("values", "ragged", "reason"),
    [
        ({"Phone": "", "Name": "Ann"}, False, "Phone: no phone number"),
        ({"Phone": "call me", "Name": "Ann"}, False, "Phone: not a phone number"),
        ({"Phone": "415 555 0100", "TZ": "Pacific/Atlantis"}, False, "unknown time zone 'Pacific/Atlantis'"),
        ({"Phone": "", "Name": "", "TZ": ""}, False, "empty row"),
        ({"Phone": "4155550100", "Name": "Ann"}, True, "more values than the header"),
    ],
)
def test_bad_rows_say_why(values: dict[str, str], ragged: bool, reason: str) -> None:
    issue = read_row(7, values, MAPPING, "US", ragged=ragged)
    assert isinstance(issue, RowIssue)
    assert issue.row_number == 7 and issue.kind == "bad"
    assert reason in issue.reason
    assert issue.raw == {k: v for k, v in values.items() if v}


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, ""),
        (float("nan"), ""),
        (4155550100.0, "4155550100"),
        (4155550100, "4155550100"),
        (2.5, "2.5"),
        (True, "TRUE"),
        (datetime(2026, 5, 1), "2026-05-01"),
        (datetime(2026, 5, 1, 9, 30), "2026-05-01 09:30:00"),
        (date(2026, 5, 1), "2026-05-01"),
        (time(9, 30), "09:30:00"),
        ("  padded ", "padded"),
    ],
)
def test_cell_text(cell: object, text: str) -> None:
    assert cell_text(cell) == text
