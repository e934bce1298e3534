"""Import contacts from CSV or XLSX into a contact list, in a worker process.

Why a worker process: the import writes with ``COPY`` (the fast path for a million
rows), and ``COPY`` does not work on a connection with psycopg2's gevent wait
callback, which every ``cti`` process installs at start-up; parsing and validating
a million rows would also hold the gevent hub for a minute. So
:func:`import_contacts` starts a ``multiprocessing`` *spawn* child -- a fresh
interpreter without gevent and without the wait callback -- that uses two plain
psycopg2 connections, and waits for its messages with ``select`` (cooperative once
gevent has patched it, so a web worker keeps serving while an import runs).

The child, in bounded memory (one chunk of rows at a time; nothing kept per row):

1. inserts the ``outbound_import_jobs`` row (status ``running``) on an autocommit
   connection that then records progress after every chunk, so the web page and
   the CLI can show it while the import runs;
2. reads the file in chunks -- CSV with pandas ``read_csv(chunksize=...)``, XLSX with
   openpyxl's read-only streaming reader, both into pandas frames --, validates each
   row (:mod:`outbound.import_rows`), ``COPY``-ies good rows into a temporary staging
   table and bad rows, with row number and reason, into ``outbound_import_issues``;
3. merges in SQL, inside one transaction (all or nothing): rows repeating a number of
   the same file (however it is written: ``020 7123 4567`` and ``+44 20 7123 4567``
   are one number) are reported as duplicates of the first row with that number and
   merged into it: **the first row wins**, a duplicate only fills what the first row
   left empty (name, time zone, custom fields it has no value for), so the contact
   keeps the values of the row it says it came from (``source_row``); numbers already
   in the list are merged into the existing contact (the file's non-empty values
   update it, custom fields are combined, its state is untouched) and reported; the
   rest become new contacts.

As with any ``multiprocessing`` spawn, the program that calls :func:`import_contacts`
must keep its top-level code under ``if __name__ == "__main__":`` (the ``cti`` entry
point and test runners do): the child imports the main module.

Every row of the file ends up counted exactly once, in the count its report line
names: ``imported`` (new contacts), ``merged`` (rows merged into a contact already in
the list: line kind ``merged``), ``duplicates`` (rows merged into an earlier row of
the file: line kind ``duplicate``) and ``bad``; ``imported + merged + duplicates + bad
== rows_read``; nothing is dropped silently (empty rows are reported too).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import multiprocessing
import resource
import select
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from outbound.errors import ImportFileError, UnknownContactList
from outbound.import_rows import ColumnMapping, ContactRow, RowIssue, cell_text, read_row
from outbound.phone import is_known_region

log = logging.getLogger(__name__)

#: Issues returned in :class:`ImportReport`; all of them are in ``outbound_import_issues``.
MAX_REPORTED = 1000
_EXTRA = "\x00extra"          # column that catches values beyond the header's columns
_DELIMITERS = ",;\t|"
#: Longest file name kept on an import job (display only).
MAX_FILE_NAME = 120


@dataclass(frozen=True)
class ImportProgress:
    """Where an import stands; sent after every chunk and at the end."""

    job_id: int
    status: str          # running, merging, done
    rows_read: int
    bad: int
    imported: int = 0    # known once merged
    merged: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class ReportedIssue:
    row_number: int
    kind: str            # bad, duplicate, merged
    reason: str


@dataclass(frozen=True)
class ImportReport:
    job_id: int
    rows_read: int
    imported: int        # new contacts
    merged: int          # rows merged into a contact already in the list
    duplicates: int      # rows repeating a number earlier in the file
    bad: int
    issues: tuple[ReportedIssue, ...]   # the first MAX_REPORTED, in row order
    worker_max_rss_kb: int


ProgressCallback = Callable[[ImportProgress], None]


def import_contacts(
    database_url: str,
    list_id: int,
    path: str | Path,
    mapping: ColumnMapping,
    *,
    default_region: str = "US",
    progress: ProgressCallback | None = None,
    chunk_rows: int = 5000,
    encoding: str = "utf-8-sig",
    file_name: str | None = None,
) -> ImportReport:
    """Import ``path`` into contact list ``list_id``; see the module docstring.

    ``file_name``: the name the user knows the file by (a web upload is stored under a
    random name), kept on the job for display only, through :func:`display_name`;
    default: the name of ``path``.

    Raises:
        ImportFileError: the file cannot be read, or a mapped column is missing.
        UnknownContactList: ``list_id`` names no list.
        RuntimeError: the worker failed for another reason (logged; job marked failed).
    """
    if not is_known_region(default_region):
        raise ImportFileError(f"default region {default_region!r}: use a two-letter code such as US or GB")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    source = Path(path)
    _format_of(source)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_worker_main,
        args=(sender, database_url, list_id, str(source), display_name(file_name or "", source.name), mapping.as_dict(),
              default_region, chunk_rows, encoding),
        name="cti-contacts-import",
        daemon=True,
    )
    worker.start()
    sender.close()
    try:
        return _follow(receiver, worker, progress)
    finally:
        receiver.close()
        # The worker exits right after its last message; wait for it cooperatively
        # (select), then reap it. If we were interrupted, it finds the pipe closed,
        # marks the job failed and exits on its own.
        select.select([worker.sentinel], [], [], 10.0)
        worker.join(timeout=0)


def _follow(receiver: Any, worker: Any, progress: ProgressCallback | None) -> ImportReport:
    while True:
        select.select([receiver, worker.sentinel], [], [])
        if not receiver.poll():
            if not worker.is_alive():
                raise RuntimeError(f"contact import worker exited with code {worker.exitcode} without a result")
            continue
        try:
            kind, payload = receiver.recv()
        except EOFError:
            raise RuntimeError("contact import worker closed its pipe without a result") from None
        if kind == "progress" and progress is not None:
            try:
                progress(ImportProgress(**payload))
            except Exception:
                log.exception("import progress callback failed", extra={"job": payload.get("job_id")})
        elif kind == "done":
            issues = tuple(ReportedIssue(**i) for i in payload.pop("issues"))
            return ImportReport(issues=issues, **payload)
        elif kind == "error":
            category, message = payload
            if category == "file":
                raise ImportFileError(message)
            if category == "list":
                raise UnknownContactList(message)
            raise RuntimeError(f"contact import failed: {message}")


# -- the worker (runs in the spawned child) -----------------------------------------


def _worker_main(sender: Any, database_url: str, list_id: int, path: str, file_name: str, mapping: dict[str, Any],
                 default_region: str, chunk_rows: int, encoding: str) -> None:
    try:
        job = _Job(sender, database_url, list_id, Path(path), file_name, ColumnMapping(**mapping), default_region)
        try:
            report = job.run(chunk_rows, encoding)
        finally:
            job.close()
        sender.send(("done", report))
    except ImportFileError as exc:
        sender.send(("error", ("file", exc.message)))
    except UnknownContactList as exc:
        sender.send(("error", ("list", exc.message)))
    except Exception as exc:
        log.exception("contact import failed", extra={"list": list_id, "path": path})
        sender.send(("error", ("internal", f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()


class _Job:
    """One import, inside the worker: two plain psycopg2 connections, no gevent."""

    def __init__(self, sender: Any, database_url: str, list_id: int, path: Path, file_name: str,
                 mapping: ColumnMapping, default_region: str) -> None:
        import psycopg2
        import psycopg2.extensions
        import psycopg2.extras

        # A spawned child re-imports the parent's entry point (``cti`` imports cti.cli,
        # which installs gevent's wait callback process-wide); COPY needs it gone.
        psycopg2.extensions.set_wait_callback(None)
        self.sender, self.list_id, self.path, self.file_name = sender, list_id, path, file_name
        self.mapping, self.region = mapping, default_region
        self.meta = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
        self.meta.autocommit = True
        self.data = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
        self.job_id = 0
        self.rows_read = self.bad = 0

    def close(self) -> None:
        self.data.close()
        self.meta.close()

    def run(self, chunk_rows: int, encoding: str) -> dict[str, Any]:
        self._create_job()
        try:
            header, chunks = _open(self.path, chunk_rows, encoding)
            self.mapping.check_header(header)
            with self.data.cursor() as cur:
                cur.execute(_STAGING)
                for chunk in chunks:
                    self._load_chunk(cur, chunk, header)
                self._progress("merging")
                counts = self._merge(cur)
                cur.execute(
                    """UPDATE outbound_import_jobs SET status = 'done', rows_read = %s, rows_bad = %s,
                              rows_imported = %s, rows_merged = %s, rows_duplicate = %s,
                              updated_at = now(), finished_at = now() WHERE id = %s""",
                    (self.rows_read, self.bad, counts["imported"], counts["merged"], counts["duplicates"], self.job_id),
                )
                cur.execute(
                    "SELECT row_number, kind, reason FROM outbound_import_issues WHERE job_id = %s "
                    "ORDER BY row_number LIMIT %s",
                    (self.job_id, MAX_REPORTED),
                )
                issues = [dict(r) for r in cur.fetchall()]
            self.data.commit()
        except BaseException as exc:
            self.data.rollback()
            message = exc.message if isinstance(exc, ImportFileError) else f"{type(exc).__name__}: {exc}"
            with self.meta.cursor() as cur:
                cur.execute(
                    "UPDATE outbound_import_jobs SET status = 'failed', error = %s, updated_at = now(), "
                    "finished_at = now() WHERE id = %s",
                    (message, self.job_id),
                )
            raise
        self._progress("done", **counts)
        return {
            "job_id": self.job_id, "rows_read": self.rows_read, "bad": self.bad, **counts,
            "issues": issues, "worker_max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }

    def _create_job(self) -> None:
        fmt = _format_of(self.path)
        with self.meta.cursor() as cur:
            cur.execute("SELECT 1 FROM outbound_contact_lists WHERE id = %s", (self.list_id,))
            if cur.fetchone() is None:
                raise UnknownContactList(f"contact list {self.list_id} does not exist; create it first")
            cur.execute(
                """INSERT INTO outbound_import_jobs (list_id, file_name, file_format, mapping, default_region)
                   VALUES (%s, %s, %s, %s, %s) RETURNING id""",
                (self.list_id, self.file_name, fmt, json.dumps(self.mapping.as_dict()), self.region),
            )
            self.job_id = int(cur.fetchone()["id"])
        self._progress("running")

    def _progress(self, status: str, **counts: int) -> None:
        update = ImportProgress(self.job_id, status, self.rows_read, self.bad, **counts)
        if status == "running" or status == "merging":
            with self.meta.cursor() as cur:
                cur.execute(
                    "UPDATE outbound_import_jobs SET status = %s, rows_read = %s, rows_bad = %s, updated_at = now() "
                    "WHERE id = %s",
                    (status, self.rows_read, self.bad, self.job_id),
                )
        self.sender.send(("progress", asdict(update)))

    def _load_chunk(self, cur: Any, frame: Any, header: list[str]) -> None:
        good, bad = io.StringIO(), io.StringIO()
        good_out, bad_out = csv.writer(good), csv.writer(bad)
        for row_number, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
            cells = {h: cell_text(v) for h, v in zip(header, values, strict=False)}
            result = read_row(int(row_number), cells, self.mapping, self.region, ragged=bool(cell_text(values[-1])))
            self.rows_read += 1
            raw = json.dumps(result.raw if isinstance(result, RowIssue) else cells, ensure_ascii=False)
            if isinstance(result, ContactRow):
                good_out.writerow([result.row_number, result.e164, result.name, result.timezone,
                                   json.dumps(result.fields, ensure_ascii=False), raw])
            else:
                self.bad += 1
                bad_out.writerow([self.job_id, result.row_number, result.kind, result.reason, raw])
        good.seek(0)
        bad.seek(0)
        cur.copy_expert("COPY import_staging (row_number, e164, name, timezone, fields, raw) "
                        "FROM STDIN WITH (FORMAT csv)", good)
        cur.copy_expert("COPY outbound_import_issues (job_id, row_number, kind, reason, raw) "
                        "FROM STDIN WITH (FORMAT csv)", bad)
        self._progress("running")

    def _merge(self, cur: Any) -> dict[str, int]:
        params = {"job": self.job_id, "list": self.list_id}
        cur.execute(_REPORT_DUPLICATES, params)
        duplicates = cur.rowcount
        cur.execute(_MERGE_BY_NUMBER)
        cur.execute(_REPORT_EXISTING, params)
        merged = cur.rowcount
        cur.execute(_UPSERT, params)
        return {"imported": cur.rowcount - merged, "merged": merged, "duplicates": duplicates}


_STAGING = """
CREATE TEMP TABLE import_staging (
    row_number integer PRIMARY KEY, e164 text NOT NULL, name text, timezone text,
    fields jsonb NOT NULL, raw jsonb NOT NULL
) ON COMMIT DROP"""

_REPORT_DUPLICATES = """
INSERT INTO outbound_import_issues (job_id, row_number, kind, reason, raw)
SELECT %(job)s, s.row_number, 'duplicate',
       'duplicate of row ' || s.first_row || ' (same number ' || s.e164 || '): row ' || s.first_row
       || ' kept, this row only filled what it left empty', s.raw
  FROM (SELECT row_number, e164, raw, min(row_number) OVER (PARTITION BY e164) AS first_row
          FROM import_staging) s
 WHERE s.row_number <> s.first_row"""

# One row per number: the first non-empty value of each field wins (the first row's,
# else the earliest duplicate that has one). Custom fields hold only non-empty values;
# jsonb_object_agg keeps the last value of a repeated key, hence the descending order.
_MERGE_BY_NUMBER = """
CREATE TEMP TABLE import_merged ON COMMIT DROP AS
SELECT g.e164, g.first_row, g.name, g.timezone, coalesce(f.fields, '{}'::jsonb) AS fields
  FROM (SELECT e164, min(row_number) AS first_row,
               coalesce((array_agg(name ORDER BY row_number) FILTER (WHERE name <> ''))[1], '') AS name,
               (array_agg(timezone ORDER BY row_number) FILTER (WHERE timezone <> ''))[1] AS timezone
          FROM import_staging GROUP BY e164) g
  LEFT JOIN (SELECT s.e164, jsonb_object_agg(kv.key, kv.value ORDER BY s.row_number DESC) AS fields
               FROM import_staging s CROSS JOIN LATERAL jsonb_each(s.fields) kv
              GROUP BY s.e164) f USING (e164)"""

_REPORT_EXISTING = """
INSERT INTO outbound_import_issues (job_id, row_number, kind, reason, raw)
SELECT %(job)s, m.first_row, 'merged',
       'number ' || m.e164 || ' is already in the list (contact ' || c.id || '); fields merged into it', s.raw
  FROM import_merged m
  JOIN outbound_contacts c ON c.list_id = %(list)s AND c.e164 = m.e164
  JOIN import_staging s ON s.row_number = m.first_row"""

_UPSERT = """
INSERT INTO outbound_contacts (list_id, e164, name, timezone, fields, import_job_id, source_row)
SELECT %(list)s, e164, name, timezone, fields, %(job)s, first_row FROM import_merged
ON CONFLICT (list_id, e164) DO UPDATE SET
    name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE outbound_contacts.name END,
    timezone = coalesce(EXCLUDED.timezone, outbound_contacts.timezone),
    fields = outbound_contacts.fields || EXCLUDED.fields,
    updated_at = now()"""


# -- reading files ------------------------------------------------------------------


def display_name(sent: str, fallback: str) -> str:
    """A file name a browser or a user sent, made safe to show: the last path part
    only (browsers may send ``C:\\Users\\ann\\list.csv``), no control or
    bidirectional-override characters, spaces collapsed, at most
    :data:`MAX_FILE_NAME` characters (the end kept: it holds the suffix).
    ``fallback`` when nothing readable is left. For display only: never a path."""
    base = sent.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(" " if ch.isspace() else ch for ch in base if ch.isspace() or unicodedata.category(ch)[0] != "C")
    name = " ".join(kept.split())
    if len(name) > MAX_FILE_NAME:
        name = "…" + name[-(MAX_FILE_NAME - 1):]
    return name if name.strip(". ") else fallback


def file_header(path: str | Path, encoding: str = "utf-8-sig") -> list[str]:
    """The column names of a contact file exactly as the import reads them (for the
    column-mapping form). Raises :class:`ImportFileError` like the import would."""
    header, frames = _open(Path(path), 1, encoding)
    try:
        next(frames, None)   # starts the reader, so closing it releases the file
    finally:
        frames.close()       # type: ignore[attr-defined]
    return header


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise ImportFileError(f"{path.name}: expected a .csv or .xlsx file")


def _open(path: Path, chunk_rows: int, encoding: str) -> tuple[list[str], Iterator[Any]]:
    """The header and an iterator of pandas frames (index = row number, last column = extras)."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if _format_of(path) == "xlsx":
        return _open_xlsx(path, chunk_rows)
    return _open_csv(path, chunk_rows, encoding)


def _clean_header(cells: list[str]) -> list[str]:
    """Header names as written; trailing empty cells (spreadsheet padding) are not columns."""
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    header = [c.strip() or f"Column{i + 1}" for i, c in enumerate(cells)]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ImportFileError(f"column {name!r} appears twice in the header row; rename one of them")
        seen.add(name)
    if not header:
        raise ImportFileError("the file is empty: the first row must name the columns")
    return header


def _open_csv(path: Path, chunk_rows: int, encoding: str) -> tuple[list[str], Iterator[Any]]:
    import pandas as pd

    try:
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(65536)
    except UnicodeDecodeError:
        raise ImportFileError(f"{path.name} is not {encoding} text; save it as 'CSV UTF-8'") from None
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = max(_DELIMITERS, key=first_line.count)
    header = _clean_header(next(csv.reader(io.StringIO(sample), delimiter=delimiter), []))
    width = len(header)

    def ragged(line: list[str]) -> list[str]:
        return [*line[:width], "ragged"]

    def frames() -> Iterator[Any]:
        reader = pd.read_csv(
            path, sep=delimiter, header=None, skiprows=1, names=[*header, _EXTRA], dtype=str,
            keep_default_na=False, na_filter=False, skip_blank_lines=False, engine="python",
            on_bad_lines=ragged, chunksize=chunk_rows, encoding=encoding,
        )
        try:
            for frame in reader:
                frame.index = frame.index + 2
                yield frame
        except UnicodeDecodeError:
            raise ImportFileError(f"{path.name} is not {encoding} text; save it as 'CSV UTF-8'") from None
        finally:
            reader.close()

    return header, frames()


def _open_xlsx(path: Path, chunk_rows: int) -> tuple[list[str], Iterator[Any]]:
    import openpyxl
    import pandas as pd

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(f"{path.name} is not a readable .xlsx workbook ({exc})") from None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = _clean_header([cell_text(c) for c in next(rows, ())])
    width = len(header)

    def frames() -> Iterator[Any]:
        batch: list[list[Any]] = []
        numbers: list[int] = []
        try:
            for number, row in enumerate(rows, start=2):
                cells = list(row)
                spill = any(cell_text(c) for c in cells[width:])
                batch.append(cells[:width] + [None] * (width - len(cells)) + ["ragged" if spill else None])
                numbers.append(number)
                if len(batch) >= chunk_rows:
                    yield pd.DataFrame(batch, columns=[*header, _EXTRA], index=numbers)
                    batch, numbers = [], []
            if batch:
                yield pd.DataFrame(batch, columns=[*header, _EXTRA], index=numbers)
        finally:
            book.close()

    return header, frames()
