"""One row of a contact file: mapped, validated and normalised, or reported as bad.

Pure: the import worker (:mod:`outbound.contacts_import`) feeds it rows as
``{header: text}`` and writes what comes back. Row numbers are the ones a user sees
in a spreadsheet: the header is row 1, the first contact row 2.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock

from outbound.errors import ImportFileError, InvalidPhoneNumber
from outbound.phone import is_known_zone, normalize

RESERVED = ("phone", "name", "timezone")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$")


@dataclass(frozen=True)
class ColumnMapping:
    """Which file column feeds which contact attribute; other mapped keys are custom fields."""

    phone: str
    name: str | None = None
    timezone: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)   # custom field -> column

    def __post_init__(self) -> None:
        for key in self.fields:
            if key in RESERVED or not _FIELD_NAME.match(key):
                raise ImportFileError(
                    f"custom field name {key!r}: use letters, digits, spaces, '_', '.' or '-' "
                    f"(up to 64) and none of {', '.join(RESERVED)}"
                )

    @classmethod
    def parse(cls, spec: str) -> ColumnMapping:
        """Read ``phone=Phone,name=Name,timezone=TZ,account=Account No`` (the CLI's --map).

        Keys other than phone, name and timezone become custom fields. Quote a pair
        whose column name has a comma: ``"notes=Notes, internal"``.
        """
        pairs: dict[str, str] = {}
        for item in next(csv.reader([spec], skipinitialspace=True), []):
            key, sep, column = item.partition("=")
            key, column = key.strip(), column.strip()
            if not sep or not key or not column:
                raise ImportFileError(f"mapping {item!r}: write KEY=Column, e.g. phone=Phone")
            if key in pairs:
                raise ImportFileError(f"mapping: {key!r} is mapped twice")
            pairs[key] = column
        if "phone" not in pairs:
            raise ImportFileError("mapping: say which column holds the phone number, e.g. phone=Phone")
        return cls(
            phone=pairs.pop("phone"),
            name=pairs.pop("name", None),
            timezone=pairs.pop("timezone", None),
            fields=pairs,
        )

    def columns(self) -> list[str]:
        mapped = [self.phone, self.name, self.timezone, *self.fields.values()]
        return [c for c in mapped if c is not None]

    def check_header(self, header: Sequence[str]) -> None:
        """Raise if a mapped column is not in the file, listing the columns that are."""
        missing = [c for c in self.columns() if c not in header]
        if missing:
            raise ImportFileError(
                f"column {missing[0]!r} is not in the file; its columns are: {', '.join(map(repr, header))}"
            )

    def as_dict(self) -> dict[str, object]:
        return {"phone": self.phone, "name": self.name, "timezone": self.timezone, "fields": dict(self.fields)}


@dataclass(frozen=True)
class ContactRow:
    row_number: int
    e164: str
    name: str
    timezone: str | None
    fields: dict[str, str]


@dataclass(frozen=True)
class RowIssue:
    row_number: int
    reason: str
    raw: dict[str, str]
    kind: str = "bad"


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person reads in it.

    Numbers typed into Excel come back as floats (``4155550100.0``): integral ones
    lose the ``.0``; dates become ISO dates; empty cells and NaN become ``""``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != clock(0) else value.date().isoformat()
    if isinstance(value, date | clock):
        return value.isoformat()
    return str(value).strip()


def read_row(
    row_number: int,
    values: Mapping[str, str],
    mapping: ColumnMapping,
    default_region: str,
    *,
    ragged: bool = False,
) -> ContactRow | RowIssue:
    """Validate one row. ``ragged``: the reader found values beyond the header's columns."""
    raw = {k: v for k, v in values.items() if v}
    if ragged:
        return RowIssue(row_number, f"row has more values than the header's {len(values)} columns; "
                                    "check quoting and the delimiter", raw)
    if not raw:
        return RowIssue(row_number, "empty row", raw)
    try:
        e164 = normalize(values.get(mapping.phone, ""), default_region)
    except InvalidPhoneNumber as exc:
        return RowIssue(row_number, f"{mapping.phone}: {exc.reason}", raw)
    zone = values.get(mapping.timezone, "") if mapping.timezone else ""
    if zone and not is_known_zone(zone):
        return RowIssue(row_number, f"{mapping.timezone}: unknown time zone {zone!r} "
                                    "(use an IANA name such as Europe/London)", raw)
    fields = {key: values[column] for key, column in mapping.fields.items() if values.get(column)}
    name = values.get(mapping.name, "") if mapping.name else ""
    return ContactRow(row_number, e164, name, zone or None, fields)
