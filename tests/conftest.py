"""Test harness: gevent patched first (as in the ``cti`` entry point), one real embedded
PostgreSQL cluster per test session, a fresh migrated database per test module."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from cti.db import Database, make_psycopg2_cooperative  # noqa: E402
from cti.embedded_pg import EmbeddedPostgres  # noqa: E402
from cti.migrations import migrate  # noqa: E402

make_psycopg2_cooperative()
logging.getLogger("pgserver").setLevel(logging.WARNING)

_db_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedPostgres]:
    """The session's PostgreSQL server (a real one, from the pgserver wheel)."""
    root = Path(tempfile.mkdtemp(prefix="cti-test-pg-"))
    cluster = EmbeddedPostgres(root)
    cluster.start()
    yield cluster
    cluster.close()


def _fresh_database(cluster: EmbeddedPostgres, label: str) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in label.lower())[-40:]
    return cluster.create_database(f"t{os.getpid()}_{next(_db_counter)}_{safe}")


@pytest.fixture(scope="module")
def database_url(pg_cluster: EmbeddedPostgres, request: pytest.FixtureRequest) -> str:
    """URL of an empty database of this module's own."""
    return _fresh_database(pg_cluster, request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Database]:
    """A pool on this module's database with every migration applied."""
    database = Database(database_url, size=4)
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def fresh_db_url(pg_cluster: EmbeddedPostgres, request: pytest.FixtureRequest) -> str:
    """URL of an empty database for one test (for tests that migrate themselves)."""
    return _fresh_database(pg_cluster, request.node.name)


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Settings for a site on this module's database (no switch configured)."""
    from cti.config import load_settings

    data_dir = tmp_path_factory.mktemp("cti-data")
    return load_settings({"CTI_DATA_DIR": str(data_dir), "CTI_DATABASE_URL": database_url, "CTI_HTTP": "127.0.0.1:0"})


@pytest.fixture(scope="module")
def services(settings):
    """Services built exactly as `cti serve` builds them, on this module's database."""
    from cti.services import build_services

    built = build_services(settings)
    yield built
    built.stop()


@pytest.fixture(scope="session")
def demo_site_template(pg_cluster: EmbeddedPostgres) -> str:
    """Name of a database migrated and provisioned with examples/site.yaml once per run
    (argon2 hashing of the demo users is deliberately slow); copied per module."""
    from cti.provision import load_site_file, provision
    from tests.stack import SITE_FILE

    name = f"tpl{os.getpid()}_demo_site"
    database = Database(pg_cluster.create_database(name), size=1)
    migrate(database)
    provision(database, load_site_file(SITE_FILE))
    database.close()
    return name


@pytest.fixture(scope="module")
def site_db_url(pg_cluster: EmbeddedPostgres, demo_site_template: str, request: pytest.FixtureRequest) -> str:
    """URL of this module's own copy of the provisioned demo site."""
    label = request.module.__name__.rsplit(".", 1)[-1]
    return pg_cluster.create_database(f"s{os.getpid()}_{next(_db_counter)}_{label[-40:]}", template=demo_site_template)


@pytest.fixture(scope="module")
def stack(site_db_url: str, tmp_path_factory: pytest.TempPathFactory):
    """A whole site on this module's copy of the demo site: simulator, services (see
    tests/stack.py). One per test module: tests share it, so they must not depend on
    call counts left by other tests of the module."""
    from tests.stack import start_stack

    site = start_stack(site_db_url, tmp_path_factory.mktemp("stack"), provisioned=True)
    yield site
    site.close()
