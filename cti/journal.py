"""A bounded, durable, append-only journal: the buffer between the event path and the
database.

Every record the store must write is appended here first (one JSON line, cheap and
local), and only then written to PostgreSQL in batches. A checkpoint file remembers how
far the database has confirmed. If the database is down the records simply stay in the
journal; if the process restarts, everything after the checkpoint is replayed in order.
Writes downstream are idempotent, so replaying a record that did reach the database
changes nothing.

The journal is split into segment files; a segment is deleted once the checkpoint has
passed it. The total size is bounded: when full, :meth:`Journal.append` raises
:class:`JournalFull` so the caller can count and log it (it never silently drops).

No I/O framework here: plain files, used from one greenlet at a time (the caller may
hand :meth:`Journal.sync`'s fsync to a thread: see :func:`cti.store.threadpool_fsync`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

SEGMENT_BYTES = 8 * 1024 * 1024

log = logging.getLogger(__name__)


class JournalFull(RuntimeError):
    """The journal reached its size bound; the database has been away too long."""


@dataclass(frozen=True, order=True)
class Position:
    """Where a record ends: (segment number, byte offset after it)."""

    segment: int
    offset: int


class Journal:
    def __init__(self, directory: Path, *, max_bytes: int = 1024 * 1024 * 1024,
                 segment_bytes: int = SEGMENT_BYTES, fsync: Callable[[int], None] = os.fsync) -> None:
        """``fsync`` is called with a file descriptor of its own (a duplicate, safe to
        use from another thread while appends go on): a gevent process passes one that
        runs in the hub's thread pool, so a slow disk never stalls call handling."""
        self.directory = Path(directory)
        self._fsync = fsync
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._checkpoint_file = self.directory / "checkpoint"
        self.checkpoint = self._read_checkpoint()
        segments = self._segments()
        self._segment = segments[-1] if segments else max(self.checkpoint.segment, 1)
        self._drop_torn_tail(self._path(self._segment))
        self._file = open(self._path(self._segment), "ab")  # noqa: SIM115 - kept open for appends
        self._unsynced = False
        self._bytes = self.size_bytes()

    # -- files ----------------------------------------------------------------------

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:010d}.jsonl"

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.jsonl") if p.stem.isdigit())

    def _read_checkpoint(self) -> Position:
        try:
            segment, offset = self._checkpoint_file.read_text().split()
            return Position(int(segment), int(offset))
        except (OSError, ValueError):
            return Position(0, 0)

    def size_bytes(self) -> int:
        return sum(self._path(s).stat().st_size for s in self._segments())

    @staticmethod
    def _drop_torn_tail(path: Path) -> None:
        """Cut a last line the process died in the middle of writing, so the next
        append starts on a line of its own."""
        if not path.exists():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    # -- writing --------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> Position:
        """Append one record; return the position just after it."""
        line = orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n"
        if self._bytes + len(line) > self.max_bytes:
            raise JournalFull(f"journal {self.directory} is full ({self.max_bytes} bytes)")
        if self._file.tell() + len(line) > self.segment_bytes and self._file.tell() > 0:
            self._rotate()
        self._file.write(line)
        self._unsynced = True
        self._bytes += len(line)
        return Position(self._segment, self._file.tell())

    def sync(self) -> None:
        """Flush appended records to the OS and to disk (called once per batch)."""
        if self._unsynced:
            self._file.flush()
            self._unsynced = False
            fd = os.dup(self._file.fileno())
            try:
                self._fsync(fd)
            finally:
                os.close(fd)

    def _rotate(self) -> None:
        self.sync()
        self._file.close()
        self._segment += 1
        self._file = open(self._path(self._segment), "ab")  # noqa: SIM115

    # -- reading and confirming ------------------------------------------------------

    def read_after(self, position: Position) -> Iterator[tuple[Position, dict[str, Any]]]:
        """Records after ``position`` in order, each with the position just after it.

        A torn last line (the process died mid-write) is not returned: it was never
        acknowledged to anyone.
        """
        self._file.flush()
        for segment in self._segments():
            if segment < position.segment:
                continue
            with open(self._path(segment), "rb") as f:
                if segment == position.segment:
                    f.seek(position.offset)
                for line in iter(f.readline, b""):
                    if not line.endswith(b"\n"):
                        break
                    try:
                        record = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        log.error("unreadable journal record skipped",
                                  extra={"segment": segment, "offset": f.tell() - len(line)})
                        continue
                    yield Position(segment, f.tell()), record

    def pending(self) -> Iterator[tuple[Position, dict[str, Any]]]:
        return self.read_after(self.checkpoint)

    def confirm(self, position: Position) -> None:
        """The database holds everything up to ``position``: move the checkpoint and
        delete segments wholly before it."""
        if position <= self.checkpoint:
            return
        tmp = self._checkpoint_file.with_suffix(".tmp")
        tmp.write_text(f"{position.segment} {position.offset}")
        os.replace(tmp, self._checkpoint_file)
        self.checkpoint = position
        for segment in self._segments():
            if segment < position.segment:
                self._bytes -= self._path(segment).stat().st_size
                self._path(segment).unlink(missing_ok=True)

    def close(self) -> None:
        self.sync()
        self._file.close()
