from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cti.db import Database
from cti.migrations import SQL_DIR, MigrationError, load_migrations, migrate, pending


@pytest.fixture
def fresh_db(fresh_db_url: str):
    database = Database(fresh_db_url, size=2)
    yield database
    database.close()


def test_migrate_twice_second_is_a_no_op(fresh_db: Database) -> None:
    names = [m.name for m in load_migrations()]
    assert migrate(fresh_db) == names
    assert migrate(fresh_db) == []
    assert pending(fresh_db) == []
    rows = fresh_db.fetchall("SELECT name FROM schema_migrations ORDER BY version")
    assert [r["name"] for r in rows] == names


def test_tampered_migration_is_refused(fresh_db: Database, tmp_path: Path) -> None:
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    migrate(fresh_db, sql_dir)
    first = sorted(sql_dir.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after it was applied\n")
    with pytest.raises(MigrationError, match=f"{first.name} was changed after it was applied"):
        migrate(fresh_db, sql_dir)


def test_migration_inserted_before_applied_ones_is_refused(fresh_db: Database, tmp_path: Path) -> None:
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "001_a.sql").write_text("CREATE TABLE a (x int);")
    (sql_dir / "003_c.sql").write_text("CREATE TABLE c (x int);")
    migrate(fresh_db, sql_dir)
    (sql_dir / "002_b.sql").write_text("CREATE TABLE b (x int);")
    with pytest.raises(MigrationError, match="history differs"):
        migrate(fresh_db, sql_dir)


def test_failed_migration_rolls_back_and_keeps_earlier_ones(fresh_db: Database, tmp_path: Path) -> None:
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "001_ok.sql").write_text("CREATE TABLE ok (x int);")
    (sql_dir / "002_bad.sql").write_text("CREATE TABLE half (x int); SELECT no_such_function();")
    with pytest.raises(Exception, match="no_such_function"):
        migrate(fresh_db, sql_dir)
    assert [r["name"] for r in fresh_db.fetchall("SELECT name FROM schema_migrations")] == ["001_ok.sql"]
    assert fresh_db.fetchone("SELECT to_regclass('half') AS t")["t"] is None


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_description.sql"):
        load_migrations(tmp_path)
