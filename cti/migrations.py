"""Forward-only schema migrations from the numbered SQL files in ``sql/``.

Files are named ``NNN_description.sql`` and applied in number order, each in its own
transaction, and recorded with a SHA-256 of their text in ``schema_migrations``. The
applied history must be exactly the first files on disk: a changed, missing or
inserted-before file makes :func:`migrate` refuse (a database must never silently
diverge from the code that reads it). An advisory lock serialises concurrent runs.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from cti.db import Database

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 724_318_001  # arbitrary, constant: "cti migrations"


class MigrationError(RuntimeError):
    """The database's applied history disagrees with the files; the message says how."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(directory: Path = SQL_DIR) -> list[Migration]:
    """Read the migration files in version order; reject badly named or duplicate ones."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:03d}: {found[version].name}, {path.name}")
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _check_history(applied: list[dict], files: list[Migration]) -> None:
    for index, row in enumerate(applied):
        if index >= len(files):
            raise MigrationError(
                f"database has migration {row['name']} which is not in {SQL_DIR}; "
                "it was migrated by a newer version of the code"
            )
        expected = files[index]
        if row["version"] != expected.version:
            raise MigrationError(
                f"database history differs from the files: applied {row['name']} where "
                f"{expected.name} comes first; a migration was inserted or removed"
            )
        if row["checksum"] != expected.checksum:
            raise MigrationError(
                f"{expected.name} was changed after it was applied (checksum differs); "
                "add a new migration instead of editing an applied one"
            )


def migrate(db: Database, directory: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    files = load_migrations(directory)
    applied_now: list[str] = []
    with db.transaction() as cur:
        cur.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
    with db.connection() as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            conn.commit()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                applied = list(cur.fetchall())
            conn.commit()
            _check_history(applied, files)
            for migration in files[len(applied):]:
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                conn.commit()
                log.info("migration applied", extra={"migration": migration.name})
                applied_now.append(migration.name)
        except BaseException:
            conn.rollback()
            raise
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
            conn.commit()
    return applied_now


def pending(db: Database, directory: Path = SQL_DIR) -> list[str]:
    """Names of migrations not applied yet (raises if the history differs)."""
    files = load_migrations(directory)
    row = db.fetchone("SELECT to_regclass('schema_migrations') AS t")
    applied = (
        db.fetchall("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        if row and row["t"]
        else []
    )
    _check_history(applied, files)
    return [m.name for m in files[len(applied):]]
