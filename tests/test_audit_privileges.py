"""PostgreSQL with two real roles: the app role cannot rewrite audit history, however it tries.

The suite's own role (a superuser on CI) creates ``catalog_owner`` and ``catalog_app`` and a
database owned by the owner; ``manage.py migrate`` runs as the owner (``MIGRATE_DATABASE_URL``)
and grants the app role; then every bypass the issue found is tried as the app role.
"""

import os
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from audit.privileges import grant_statements
from bin.pg_roles import APP_ROLE, OWNER_ROLE, ensure_database, ensure_roles
from tests.sync_helpers import PROJECT_ROOT

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants are PostgreSQL's")


def url(role: str, database: str) -> str:
    """A URL for ``role`` on the suite's PostgreSQL server."""
    settings = connection.settings_dict
    return f"postgresql://{role}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{database}"


def admin_url() -> str:
    """The suite's own role, on the maintenance database."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgresql://{settings['USER']}{password}@{host}:{port}/postgres"


def manage(database: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run manage.py as the app role, migrations as the owner."""
    environment = {
        **os.environ,
        "DATABASE_URL": url(APP_ROLE, database),
        "MIGRATE_DATABASE_URL": url(OWNER_ROLE, database),
        "DEBUG": "1",
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-key.pem"),
        "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors"),
        "AUDIT_RECORD_TEST_RUNS": "0",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def roles_database(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """A migrated database owned by catalog_owner, with five events the app role recorded."""
    name = f"catalog_roles_{os.getpid()}"
    tmp_path = tmp_path_factory.mktemp("roles")
    try:
        with psycopg.connect(admin_url(), autocommit=True) as admin:
            ensure_roles(admin)
            ensure_database(admin, name)
    except psycopg.errors.InsufficientPrivilege as error:
        pytest.skip(f"the suite's role cannot create roles: {error}")
    try:
        migrated = manage(name, tmp_path, "migrate", "--verbosity", "1")
        assert migrated.returncode == 0, migrated.stderr
        assert f"Granted the app role {APP_ROLE}" in migrated.stdout
        code = "from audit.services import record_event\nfor _ in range(5): record_event(kind='fetch', outcome='ok')"
        recorded = manage(name, tmp_path, "shell", "-c", code)
        assert recorded.returncode == 0, recorded.stderr
        yield name, tmp_path
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def as_role(role: str, database: str, *statements: str) -> None:
    """Run the statements in one transaction as ``role``."""
    with psycopg.connect(url(role, database)) as session, session.transaction():
        for statement in statements:
            session.execute(statement)


def count(database: str) -> int:
    """How many audit events the database holds, read as the app role."""
    with psycopg.connect(url(APP_ROLE, database)) as session:
        return session.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0]


@pytest.mark.parametrize(
    "statements",
    [
        ("SET LOCAL audit.allow_prune = 'on'", "DELETE FROM audit_auditevent"),
        ("SET LOCAL audit.prune_in_progress = 'on'", "DELETE FROM audit_auditevent"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",),
        ("TRUNCATE audit_auditevent",),
        ("UPDATE audit_auditevent SET message = 'edited'",),
        (f"SET ROLE {OWNER_ROLE}",),
        ("SET LOCAL session_replication_role = replica", "DELETE FROM audit_auditevent"),
    ],
    ids=["allow-prune", "prune-flag", "disable-trigger", "disable-all", "truncate", "update", "set-role", "replica"],
)
def test_the_app_role_cannot_rewrite_history(roles_database, statements):
    database, _ = roles_database

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(APP_ROLE, database, *statements)
    assert count(database) >= 5


def test_the_app_role_does_not_own_the_audit_table(roles_database):
    database, _ = roles_database
    with psycopg.connect(url(APP_ROLE, database)) as session:
        owner = session.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_auditevent'").fetchone()[0]
        privileges = session.execute(
            "SELECT array_agg(privilege_type::text ORDER BY privilege_type) FROM information_schema.role_table_grants "
            "WHERE table_name = 'audit_auditevent' AND grantee = %s",
            [APP_ROLE],
        ).fetchone()[0]

    assert (owner, privileges) == (OWNER_ROLE, ["INSERT", "SELECT"])


def test_the_trigger_refuses_truncate_even_for_the_owner(roles_database):
    database, _ = roles_database

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only: TRUNCATE refused"):
        as_role(OWNER_ROLE, database, "TRUNCATE audit_auditevent")


PRUNE_A_MONTH_LATER = """
from datetime import timedelta
from unittest import mock
from django.utils import timezone
from audit.retention import prune_events
with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=30)):
    print(prune_events(older_than=timedelta(days=7)).deleted)
"""


def test_pruning_goes_through_the_owners_function_and_needs_a_checkpoint(roles_database):
    database, tmp_path = roles_database

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no prune checkpoint covers event #1"):
        as_role(APP_ROLE, database, "SELECT audit_prune(1, 1)")
    pruned = manage(database, tmp_path, "shell", "-c", PRUNE_A_MONTH_LATER)
    assert (pruned.returncode, pruned.stdout.strip().splitlines()[-1]) == (0, "5"), pruned.stderr
    verified = manage(database, tmp_path, "verify_audit")
    assert verified.returncode == 0, verified.stderr
    assert "from #6 (earlier events pruned behind a signed checkpoint)" in verified.stdout


def test_grants_give_the_audit_table_select_and_insert_only():
    statements = grant_statements(tables=["audit_auditevent", "catalog_product"], app_role="app", quote=str)

    assert "GRANT SELECT, INSERT ON audit_auditevent TO app" in statements
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON catalog_product TO app" in statements
    assert not any("audit_auditevent" in line and "UPDATE" in line for line in statements)
