"""Report work off the gevent hub: a few spawned worker processes.

Why: building a report is pandas work that holds the CPU for a tenth of a second (a
day by queue) to minutes (a year of call records). Done in the web process it would
stall every greenlet -- the live pushes to agent desktops, the ESL events -- for that
long. So report pages, exports and the staffing calculator hand their work to a worker
process (``multiprocessing`` *spawn*: a fresh interpreter, as
:mod:`outbound.contacts_import` does) and wait for its answer with ``select``, which
gevent makes cooperative.

Protocol, over a pair of pipes per worker (pickled tuples):

- the web process sends ``(task, kwargs)``; the task names a function of
  :mod:`webapp.reports_tasks` (``CALLS`` or ``STREAMS``), which runs with a plain
  psycopg2 connection of the worker's own as first argument;
- a call answers ``("ok", value)``; a stream answers ``("chunk", bytes)`` messages
  (at most :data:`CHUNK_BYTES` each) then ``("end", None)``;
- either may answer ``("error", kind, message)`` instead: kind ``report`` carries a
  :class:`~reports.errors.ReportError` message meant for the user; ``internal`` is a
  bug or a database failure, logged in the worker with its traceback and raised here
  as :class:`ReportCrashed`.

Errors raised here: :class:`~reports.errors.ReportError` (the user must change the
request), :class:`WorkerFailed` (busy, too slow, or the worker died: the message may
be shown), :class:`ReportCrashed` (a ``WorkerFailed`` whose message may not).

Messages are small (one page of rows, chart series, 256 KiB stream chunks): once
``select`` says one has begun, reading the rest of it is quick.

Workers start on first use (a site that never opens a report pays nothing), serve one
task at a time, and are replaced when they die. A stream abandoned half way (the
browser went away) leaves its worker busy writing, so that worker is ended and
replaced instead of being reused; so is one that overruns its time limit.
"""

from __future__ import annotations

import contextlib
import logging
import select
from collections.abc import Iterator
from typing import Any

from reports.errors import ReportError

log = logging.getLogger(__name__)

#: Largest piece of a stream sent at once (the web process reads a message whole).
CHUNK_BYTES = 256 * 1024
#: Longest a page or a calculation may take before its worker is ended.
CALL_TIMEOUT_S = 300.0
#: Longest a request waits for a free worker.
ACQUIRE_TIMEOUT_S = 120.0


class WorkerFailed(RuntimeError):
    """The work failed for a reason the user cannot fix (logged where it happened)."""


class WorkersBusy(WorkerFailed):
    """No worker became free in time."""


class ReportCrashed(WorkerFailed):
    """The report raised an unexpected error in its worker (a bug or a database
    failure); the message is for the log, not for the user."""


class _Worker:
    """One spawned process and the parent's end of its pipe."""

    def __init__(self, context: Any, database_url: str, log_level: str) -> None:
        # Two one-way OS pipes, not a socket pair: gevent makes the sockets it creates
        # non-blocking, and multiprocessing's reads on such a file give up with EAGAIN.
        tasks_in, self.tasks = context.Pipe(duplex=False)
        self.pipe, results_out = context.Pipe(duplex=False)
        self.process = context.Process(target=serve, args=(tasks_in, results_out, database_url, log_level),
                                       name="cti-report-worker", daemon=True)
        self.process.start()
        tasks_in.close()
        results_out.close()

    def send(self, task: str, kwargs: dict[str, Any]) -> None:
        self.tasks.send((task, kwargs))

    def receive(self, timeout: float | None) -> tuple[Any, ...]:
        """The next message; WorkerFailed if the process died or the time ran out."""
        ready, _, _ = select.select([self.pipe, self.process.sentinel], [], [], timeout)
        if self.pipe in ready or self.pipe.poll():
            try:
                message: tuple[Any, ...] = self.pipe.recv()
            except (EOFError, OSError):
                raise WorkerFailed("the report worker stopped unexpectedly") from None
            return message
        if not ready:
            raise WorkerFailed(f"the report took longer than {timeout:.0f} s; narrow the range or export it")
        raise WorkerFailed(f"the report worker exited (code {self.process.exitcode})")

    def alive(self) -> bool:
        """Whether the process runs, from its sentinel: ``Process.is_alive`` cannot be
        trusted under gevent, whose SIGCHLD handler reaps children before
        multiprocessing looks (it then reports a dead process as alive)."""
        ready, _, _ = select.select([self.process.sentinel], [], [], 0)
        return not ready

    def end(self) -> None:
        for end in (self.tasks, self.pipe):
            with contextlib.suppress(Exception):
                end.close()
        if self.alive():
            self.process.terminate()
            select.select([self.process.sentinel], [], [], 5.0)
        self.process.join(timeout=0)


class ReportWorkers:
    """A small pool of report worker processes (see the module docstring).

    Args:
        database_url: where the workers read (they open their own connection).
        size: processes at most; requests beyond that wait for a free one.
    """

    def __init__(self, database_url: str, *, size: int = 2, log_level: str = "INFO") -> None:
        import multiprocessing

        from gevent.queue import Queue

        self.database_url = database_url
        self.size = size
        self.log_level = log_level
        self._context = multiprocessing.get_context("spawn")
        self._idle: Queue = Queue()
        self._count = 0
        self._all: list[_Worker] = []
        self._closed = False

    # -- pool -------------------------------------------------------------------------

    def _acquire(self) -> _Worker:
        from gevent.queue import Empty

        if self._closed:
            raise WorkerFailed("the report workers are stopped")
        try:
            return self._idle.get_nowait()  # type: ignore[no-any-return]
        except Empty:
            pass
        if self._count < self.size:
            self._count += 1
            try:
                worker = _Worker(self._context, self.database_url, self.log_level)
            except BaseException:
                self._count -= 1
                raise
            self._all.append(worker)
            return worker
        try:
            return self._idle.get(timeout=ACQUIRE_TIMEOUT_S)  # type: ignore[no-any-return]
        except Empty:
            raise WorkersBusy("every report worker is busy; try again in a minute") from None

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        if healthy and worker.alive() and not self._closed:
            self._idle.put(worker)
            return
        worker.end()
        self._count -= 1
        if worker in self._all:
            self._all.remove(worker)

    # -- work -------------------------------------------------------------------------

    def call(self, task: str, timeout: float = CALL_TIMEOUT_S, **kwargs: Any) -> Any:
        """Run ``task`` in a worker and return its value.

        Raises:
            ReportError: the request is wrong (message for the user).
            WorkerFailed: anything else (already logged by the worker).
        """
        worker = self._acquire()
        healthy = False
        try:
            worker.send(task, kwargs)
            message = worker.receive(timeout)
            healthy = True
        finally:
            self._release(worker, healthy=healthy)
        if message[0] == "ok":
            return message[1]
        raise _error(message)

    def stream(self, task: str, **kwargs: Any) -> Iterator[bytes]:
        """Start ``task`` and return its bytes as they come.

        The first message is awaited before returning, so a request error raises
        here (before any response is sent) rather than in the middle of a download.
        """
        worker = self._acquire()
        try:
            worker.send(task, kwargs)
            first = worker.receive(CALL_TIMEOUT_S)
        except BaseException:
            self._release(worker, healthy=False)
            raise
        if first[0] == "error":
            self._release(worker, healthy=True)
            raise _error(first)
        return self._rest(worker, first)

    def _rest(self, worker: _Worker, first: tuple[Any, ...]) -> Iterator[bytes]:
        finished = False
        try:
            message = first
            while message[0] == "chunk":
                yield message[1]
                message = worker.receive(CALL_TIMEOUT_S)
            if message[0] == "error":
                # Too late for an error page: the download is cut short instead.
                log.error("report stream failed", extra={"error": message[2]})
            finished = True
        finally:
            self._release(worker, healthy=finished)

    def start(self) -> None:
        """Nothing to do: workers start on first use."""

    def stop(self) -> None:
        self._closed = True
        for worker in list(self._all):
            worker.end()
        self._all.clear()


def _error(message: tuple[Any, ...]) -> Exception:
    kind, text = message[1], message[2]
    return ReportError(text) if kind == "report" else ReportCrashed(text)


# -- the worker side (runs in the spawned process) ---------------------------------


class _Sink:
    """A binary file the stream tasks write to; sends full chunks over the pipe."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= CHUNK_BYTES:
            self.pipe.send(("chunk", bytes(self.buffer[:CHUNK_BYTES])))
            del self.buffer[:CHUNK_BYTES]
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.pipe.send(("chunk", bytes(self.buffer)))
            self.buffer.clear()


class _Connection:
    """The worker's one database connection, reopened after a failure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    def get(self) -> Any:
        import psycopg2

        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.url)
            # Each report opens and ends its own transaction (reports.queries.reading).
            self.conn.autocommit = True
        return self.conn

    def reset(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = None


def serve(tasks: Any, pipe: Any, database_url: str, log_level: str) -> None:
    """The worker's loop: one task from ``tasks`` at a time, answers into ``pipe``,
    until ``tasks`` closes."""
    from cti.logs import configure_logging
    from webapp import reports_tasks

    configure_logging(log_level)
    db = _Connection(database_url)
    while True:
        try:
            task, kwargs = tasks.recv()
        except (EOFError, OSError):
            db.reset()
            return
        try:
            if task in reports_tasks.STREAMS:
                sink = _Sink(pipe)
                reports_tasks.STREAMS[task](db.get(), sink, **kwargs)
                sink.flush()
                pipe.send(("end", None))
            else:
                pipe.send(("ok", reports_tasks.CALLS[task](db.get(), **kwargs)))
        except ReportError as exc:
            pipe.send(("error", "report", str(exc)))
        except Exception as exc:
            log.exception("report task failed", extra={"task": task, "report": kwargs.get("name", "")})
            db.reset()
            pipe.send(("error", "internal", f"{type(exc).__name__}: {exc}"))
