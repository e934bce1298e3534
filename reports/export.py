"""Writing report frames as CSV, XLSX or JSON.

Every writer takes one frame or an iterable of frames (the chunks of a list report)
and streams them: memory holds one chunk at a time (XLSX uses openpyxl's write-only
mode). Times are written in the site's zone: ISO 8601 with the offset in CSV and JSON;
in XLSX, whose cells have no zone, as local wall-clock times, the zone being named on
the ``about`` sheet together with the report, window, interval and filters.
Undefined KPIs (NaN) are empty cells in CSV/XLSX and ``null`` in JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import pandas as pd

from reports.errors import ReportError

FORMATS = ("csv", "xlsx", "json")

#: Data rows one XLSX sheet can hold (Excel's limit, less the header row).
XLSX_MAX_ROWS = 1_048_575

Frames = pd.DataFrame | Iterable[pd.DataFrame]


def _chunks(frames: Frames) -> Iterator[pd.DataFrame]:
    if isinstance(frames, pd.DataFrame):
        yield frames
    else:
        yield from frames


def _iso(series: pd.Series) -> pd.Series:
    text = series.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return (text.str[:-2] + ":" + text.str[-2:]).where(series.notna(), None)


def _textual(frame: pd.DataFrame) -> pd.DataFrame:
    """Aware times as ISO strings, missing values as None (for CSV and JSON)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = _iso(out[column])
    return out.astype(object).where(out.notna(), None)


def write_csv(frames: Frames, out: IO[str]) -> int:
    """Write CSV with one header line; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    rows = 0
    for index, frame in enumerate(_chunks(frames)):
        if index == 0:
            writer.writerow(list(frame.columns))
        writer.writerows(_textual(frame).itertuples(index=False, name=None))
        rows += len(frame)
    return rows


def _json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(frames: Frames, out: IO[bytes]) -> int:
    """Write ``{"report": {...attrs}, "rows": [{column: value}, ...]}``; returns rows."""
    rows = 0
    first_chunk = True
    for frame in _chunks(frames):
        if first_chunk:
            out.write(b'{"report":' + orjson.dumps(frame.attrs, default=_json_default) + b',"rows":[')
        for record in _textual(frame).to_dict("records"):
            out.write((b"," if rows else b"") + orjson.dumps(record, default=_json_default))
            rows += 1
        first_chunk = False
    if first_chunk:
        out.write(b'{"report":{},"rows":[')
    out.write(b"]}\n")
    return rows


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def write_xlsx(frames: Frames, path: Path) -> int:
    """Write an XLSX workbook (sheets ``report`` and ``about``); returns data rows.

    Raises:
        ReportError: more rows than one sheet holds (export CSV instead).
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("report")
    rows = 0
    attrs: dict[str, Any] = {}
    for index, frame in enumerate(_chunks(frames)):
        if index == 0:
            attrs = {str(k): v for k, v in frame.attrs.items()}
            sheet.append([str(c) for c in frame.columns])
        rows += len(frame)
        if rows > XLSX_MAX_ROWS:
            raise ReportError(f"more than {XLSX_MAX_ROWS} rows do not fit in one XLSX sheet; use --format csv")
        for record in frame.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in record])
    about = book.create_sheet("about")
    for key, value in attrs.items():
        about.append([key, str(value)])
    book.save(path)
    return rows


def export(frames: Frames, fmt: str, out_path: Path | None, stdout: IO[str] | None = None) -> int:
    """Write ``frames`` in ``fmt`` to ``out_path`` (or ``stdout`` for csv and json)."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        if out_path is None:
            raise ReportError("xlsx is a binary file: give --out FILE.xlsx")
        return write_xlsx(frames, out_path)
    if out_path is not None:
        if fmt == "csv":
            with out_path.open("w", encoding="utf-8", newline="") as handle:
                return write_csv(frames, handle)
        with out_path.open("wb") as handle_bytes:
            return write_json(frames, handle_bytes)
    if stdout is None:
        raise ReportError("give --out FILE or an output stream")
    if fmt == "csv":
        return write_csv(frames, stdout)
    binary = getattr(stdout, "buffer", None)
    if binary is not None:
        stdout.flush()
        rows = write_json(frames, binary)
        binary.flush()
        return rows
    buffer = io.BytesIO()
    rows = write_json(frames, buffer)
    stdout.write(buffer.getvalue().decode("utf-8"))
    return rows
