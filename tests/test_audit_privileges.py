"""PostgreSQL with two real roles: the app role cannot rewrite audit history, however it tries.

A database of its own, owned by ``catalog_owner``, named unlike a test database (so the trigger
treats it as production's): when the suite runs as the app role (``make test-postgres``, as CI
does) the owner creates it; when the suite's role is a superuser, that role creates the two
roles and the database. ``manage.py migrate`` runs as the owner (``MIGRATE_DATABASE_URL``) and
grants the app role; then every bypass the issue found is tried as the app role.
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
from tests.database_roles import suite_roles
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
    # The owner may create databases on a test server (make test-postgres gives it CREATEDB).
    creator = url(OWNER_ROLE, "postgres") if suite_roles() else admin_url()
    try:
        with psycopg.connect(creator, autocommit=True) as admin:
            ensure_roles(admin)
            ensure_database(admin, name)
    except psycopg.errors.InsufficientPrivilege as error:
        if suite_roles():
            raise  # the roles are the point of this run: never a quiet skip
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
        with psycopg.connect(creator, autocommit=True) as admin:
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


def test_the_app_role_may_use_every_other_table_and_every_sequence(roles_database):
    """Whatever later migrations add: full use of every other table, and of every sequence (inserts draw on them)."""
    database, _ = roles_database
    with psycopg.connect(url(APP_ROLE, database)) as session:
        lacking = session.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND ("
            " (c.relkind IN ('r', 'p') AND c.relname <> 'audit_auditevent' AND NOT ("
            "  has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')"
            "  AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE')))"
            " OR (c.relkind = 'S' AND NOT (has_sequence_privilege(c.oid, 'USAGE')"
            "  AND has_sequence_privilege(c.oid, 'SELECT'))))"
        ).fetchall()
        tables = session.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]

    assert (lacking, tables > 10) == ([], True)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditevent SET message = 'edited'", "DELETE FROM audit_auditevent", "TRUNCATE audit_auditevent"],
    ids=["update", "delete", "truncate"],
)
def test_the_trigger_refuses_even_the_owner(roles_database, statement):
    database, _ = roles_database
    operation = statement.split()[0]

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"append-only: {operation} refused"):
        as_role(OWNER_ROLE, database, statement)
    assert count(database) >= 5


@pytest.mark.django_db
@pytest.mark.skipif(suite_roles() is None, reason="make test-postgres runs the suite as the app role")
def test_the_suite_itself_runs_as_the_app_role():
    """The whole suite's connection is the app role's, with the audit grants production has."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, tableowner, "
            " array(SELECT privilege_type::text FROM information_schema.role_table_grants"
            "  WHERE table_name = 'audit_auditevent' AND grantee = current_user ORDER BY 1) "
            "FROM pg_roles, pg_tables WHERE rolname = current_user AND tablename = 'audit_auditevent'"
        )
        user, superuser, owner, privileges = cursor.fetchone()

    roles = suite_roles()
    expected = (roles.app["USER"], False, roles.owner["USER"], ["INSERT", "SELECT"])
    assert (user, superuser, owner, privileges) == expected


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
    assert "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app" in statements
