"""The work the report worker processes do (see :mod:`webapp.reports_worker`).

Each function takes the worker's own psycopg2 connection first, then plain keyword
arguments (what the web process sent), and returns plain values (calls) or writes
bytes to ``sink`` (streams). They run outside gevent, so they may take the CPU for as
long as a report needs.

A page carries one page of rows (list reports such as the call detail are read chunk
by chunk and stop once the page is filled), and the charts computed from the whole
report. Exports go through :mod:`reports.export` as the command line's do: CSV is
streamed chunk by chunk; XLSX is written to a temporary file, then sent.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from reports.catalog import CHUNKED, iter_report, run_report
from reports.charts import ivr_tree_nodes
from reports.errors import ReportError
from reports.export import write_csv, write_xlsx
from reports.forecast import DEFAULT_WEEKS
from reports.forecast import method as forecast_method
from webapp import reports_calc
from webapp.reports_charts import heat_map, over_time
from webapp.reports_format import column_kind
from webapp.reports_ivr import build_trees

FORMATS = ("csv", "xlsx")
#: Written first in CSV downloads so that spreadsheet programs read UTF-8 (Chinese names).
UTF8_BOM = "\ufeff"
_COPY_BYTES = 256 * 1024


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> dict[str, Any]:
    """Columns, their display kinds, and rows of JSON-able values."""
    columns = [str(c) for c in frame.columns]
    kinds = [column_kind(c, frame[c].dtype.kind) for c in columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"columns": columns, "kinds": kinds, "rows": rows}


def _page_of_chunks(chunks: Iterator[pd.DataFrame], page: int, size: int) -> tuple[pd.DataFrame | None, bool, int]:
    """(rows of the page, whether rows follow it, rows read) without reading further."""
    low, high = (page - 1) * size, page * size
    parts: list[pd.DataFrame] = []
    seen, has_more, empty = 0, False, None
    try:
        for chunk in chunks:
            empty = chunk.iloc[0:0] if empty is None else empty
            if seen + len(chunk) > low and seen < high:
                parts.append(chunk.iloc[max(low - seen, 0):high - seen])
            seen += len(chunk)
            if seen > high:
                has_more = True
                break
    finally:
        chunks.close()  # type: ignore[attr-defined]
    if not parts:
        return empty, False, seen
    return pd.concat(parts, ignore_index=True), has_more, seen


FLOWS_SQL = "SELECT name, version, definition FROM flows WHERE name = ANY(%s) ORDER BY name, version"


def _flows(conn: Any, names: list[str]) -> dict[tuple[str, int | None], Any]:
    """Parsed definitions by (name, version), plus (name, None) for the latest."""
    from routing.errors import FlowError
    from routing.flows import parse_flow

    with conn.cursor() as cur:
        cur.execute(FLOWS_SQL, (names,))
        rows = cur.fetchall()
    flows: dict[tuple[str, int | None], Any] = {}
    for name, version, definition in rows:
        try:
            flow = parse_flow(definition)
        except FlowError:
            continue
        flows[(name, int(version))] = flow
        flows[(name, None)] = flow
    return flows


def report_page(conn: Any, *, name: str, page: int, page_size: int, **run: Any) -> dict[str, Any]:
    """One page of report ``name`` with its charts; ``run`` as for run_report."""
    total: int | None
    if name in CHUNKED:
        shown, has_more, seen = _page_of_chunks(iter_report(conn, name, **run), page, page_size)
        if shown is None:
            shown = run_report(conn, name, **run)
        full, total = None, None if has_more else seen
    else:
        full = run_report(conn, name, **run)
        total = len(full)
        shown = full.iloc[(page - 1) * page_size:page * page_size]
        has_more = page * page_size < total
    interval = str(shown.attrs.get("interval", run.get("interval", "day")))
    result = {"interval": interval, "total": total, "has_more": has_more, **records(shown)}
    if full is not None:
        result["chart"] = over_time(name, full, interval)
        result["heat_map"] = heat_map(name, full, interval)
        if name == "staffing" and len(full):
            result["method"] = asdict(forecast_method(int(full.attrs["filters"].get("weeks", DEFAULT_WEEKS))))
        if name == "ivr_tree":
            nodes = ivr_tree_nodes(full) if len(full) else {}
            result["ivr"] = build_trees(nodes, _flows(conn, list(nodes)))
    return result


def _write_file(path: Path, sink: Any) -> None:
    with path.open("rb") as handle:
        while block := handle.read(_COPY_BYTES):
            sink.write(block)


class _Text:
    """Text written as UTF-8 into a binary sink (what ``csv.writer`` needs)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        self.sink.write(text.encode("utf-8"))
        return len(text)


def _export_frames(frames: Any, fmt: str, sink: Any) -> None:
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        text = _Text(sink)
        text.write(UTF8_BOM)
        write_csv(frames, text)  # type: ignore[arg-type]
        return
    with tempfile.TemporaryDirectory(prefix="cti-report-") as folder:
        path = Path(folder) / "report.xlsx"
        write_xlsx(frames, path)
        _write_file(path, sink)


def export(conn: Any, sink: Any, *, fmt: str, name: str, **run: Any) -> None:
    """Report ``name`` in ``fmt`` (csv or xlsx), streamed into ``sink``."""
    _export_frames(iter_report(conn, name, **run), fmt, sink)


def _calculator_frame(args: dict[str, str]) -> pd.DataFrame:
    rows = reports_calc.staffing_rows(reports_calc.read_input(args))
    frame = pd.DataFrame(rows, columns=list(reports_calc.COLUMNS))
    for column in reports_calc.COLUMNS[1:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame.attrs.update({"report": "erlang_calculator", **{k: v for k, v in args.items() if k != "calls"}})
    return frame


def calculator(conn: Any, *, args: dict[str, str]) -> dict[str, Any]:
    """The Erlang calculator's table and chart (``conn`` unused: no stored data)."""
    frame = _calculator_frame(args)
    result = records(frame)
    lines = [{"key": "agents_erlang_c", "values": [_cell(v) for v in frame["agents_erlang_c"]], "percent": False}]
    if frame["agents_erlang_a"].notna().any():
        lines.append({"key": "agents_erlang_a", "values": [_cell(v) for v in frame["agents_erlang_a"]],
                      "percent": False})
    result["chart"] = {"labels": frame["interval"].tolist(),
                       "bars": [{"key": "calls", "values": [_cell(v) for v in frame["calls"]]}], "lines": lines}
    return result


def calculator_export(conn: Any, sink: Any, *, fmt: str, args: dict[str, str]) -> None:
    _export_frames(_calculator_frame(args), fmt, sink)


CALLS = {"page": report_page, "calculator": calculator}
STREAMS = {"export": export, "calculator_export": calculator_export}
