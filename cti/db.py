"""PostgreSQL access for a gevent process: a cooperative psycopg2 and a small pool.

psycopg2 talks to libpq in C, which would block the whole gevent hub for the length
of every query. :func:`make_psycopg2_cooperative` installs a wait callback that yields
to the hub while libpq waits for the socket (the psycogreen technique), with a timeout
on the connection phase because libpq's ``connect_timeout`` is ignored in async mode.

:class:`Database` hands out one connection per greenlet at a time; when all are busy the
caller waits (it never gets an error because the pool is momentarily empty). A
connection found broken (the server restarted) is discarded and replaced on next use.
All SQL goes through bound parameters.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

log = logging.getLogger(__name__)

#: Seconds allowed for a TCP/Unix connect plus authentication.
CONNECT_TIMEOUT = 5.0


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says where and why."""


def _gevent_wait_callback(conn: Any) -> None:
    """Wait for libpq without blocking the hub (see the module docstring)."""
    from gevent.socket import wait_read, wait_write

    connecting = conn.status == psycopg2.extensions.STATUS_SETUP
    deadline = time.monotonic() + CONNECT_TIMEOUT if connecting else None
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise psycopg2.OperationalError(f"timeout after {CONNECT_TIMEOUT:.0f}s connecting to the database")
        try:
            if state == psycopg2.extensions.POLL_READ:
                wait_read(conn.fileno(), timeout=timeout)
            elif state == psycopg2.extensions.POLL_WRITE:
                wait_write(conn.fileno(), timeout=timeout)
            else:
                raise psycopg2.OperationalError(f"bad result from poll: {state!r}")
        except TimeoutError as exc:  # gevent raises socket.timeout, a TimeoutError
            raise psycopg2.OperationalError(
                f"timeout after {CONNECT_TIMEOUT:.0f}s connecting to the database"
            ) from exc


def make_psycopg2_cooperative() -> None:
    """Install the gevent wait callback (idempotent). Call once, after monkey-patching."""
    psycopg2.extensions.set_wait_callback(_gevent_wait_callback)


def _is_disconnect(exc: BaseException) -> bool:
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)


class Database:
    """A pool of psycopg2 connections to one database URL.

    Use :meth:`transaction` for a unit of work (commit on success, rollback on error),
    or the helpers :meth:`execute`, :meth:`fetchall`, :meth:`fetchone` for one statement.
    Rows come back as dicts.
    """

    def __init__(self, url: str, *, size: int = 8, acquire_timeout: float = 30.0) -> None:
        from gevent.queue import LifoQueue

        self.url = url
        self.size = size
        self.acquire_timeout = acquire_timeout
        self._idle: LifoQueue = LifoQueue()
        self._created = 0
        self._closed = False

    # -- connections -----------------------------------------------------------------

    def _connect(self) -> Any:
        try:
            conn = psycopg2.connect(self.url, cursor_factory=psycopg2.extras.RealDictCursor)
        except psycopg2.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to the database: {str(exc).strip()}") from exc
        conn.autocommit = False
        return conn

    def _acquire(self) -> Any:
        from gevent.queue import Empty

        if self._closed:
            raise DatabaseUnavailable("the database pool is closed")
        try:
            return self._idle.get_nowait()
        except Empty:
            pass
        if self._created < self.size:
            self._created += 1
            try:
                return self._connect()
            except BaseException:
                self._created -= 1
                raise
        try:
            return self._idle.get(timeout=self.acquire_timeout)
        except Empty as exc:
            raise DatabaseUnavailable(
                f"no database connection free after {self.acquire_timeout:.0f}s ({self.size} in use)"
            ) from exc

    def _release(self, conn: Any, *, broken: bool) -> None:
        if broken or self._closed or conn.closed:
            self._created -= 1
            with contextlib.suppress(Exception):
                conn.close()
            return
        self._idle.put(conn)

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for this greenlet alone; returned to the pool afterwards."""
        conn = self._acquire()
        broken = False
        try:
            yield conn
        except BaseException as exc:
            broken = _is_disconnect(exc) or bool(conn.closed)
            if not broken:
                with contextlib.suppress(Exception):
                    conn.rollback()
            if _is_disconnect(exc):
                raise DatabaseUnavailable(f"database error: {str(exc).strip()}") from exc
            raise
        finally:
            self._release(conn, broken=broken)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        with self.connection() as conn:
            with conn.cursor() as cur:
                yield cur
            conn.commit()

    # -- one-statement helpers -------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> int:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.rowcount

    def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> dict[str, Any] | None:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def ping(self) -> bool:
        """True when a trivial query succeeds now."""
        try:
            self.fetchone("SELECT 1 AS ok")
        except (DatabaseUnavailable, psycopg2.Error):
            return False
        return True

    def close(self) -> None:
        from gevent.queue import Empty

        self._closed = True
        while True:
            try:
                conn = self._idle.get_nowait()
            except Empty:
                break
            with contextlib.suppress(Exception):
                conn.close()
