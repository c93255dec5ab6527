"""The PostgreSQL suite runs as the site does: connected as the app role, its database made by the owner.

``make test-postgres`` sets ``DATABASE_URL`` to the app role (``catalog_app``) and
``MIGRATE_DATABASE_URL`` to the owner (``catalog_owner``), as production does. The project's root
conftest.py then has pytest-django create, migrate and drop the test database as the owner, grants
the app role what ``manage.py migrate`` grants it, and runs every test as the app role: a code path
that needs more than those grants fails the suite.

The test database alone gives the app role one thing more: UPDATE on sequences, for ``setval``,
which Django's ``reset_sequences`` and the tests' renumbering of sequences (they do not roll back
with a test's transaction) need; the app itself only draws numbers (USAGE). Two other needs are
more than the app role may do, so they run as the owner, in the test database only:

- Django's flush after each transactional test truncates every table, the audit table too (its
  trigger allows that in ``test_*`` databases only), and its ``post_migrate`` handlers create
  indexes (catalog/vendor_indexes.py): the whole flush command runs as the owner.
- tests/tampering.py rewrites audit rows behind the app's back, as an attacker with more rights
  would, through ``test_tamper``: a function of the owner's that this module creates in the test
  database alone, callable by the app role, which runs one statement with the table's triggers off.
"""

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import dj_database_url
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from audit.privileges import AUDIT_TABLE, CREDENTIALS, connected_as, grant_app_role, owner_credentials

TAMPER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION test_tamper(statement text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
    ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER;
    EXECUTE statement;
    ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER USER;
END;
$$;
REVOKE ALL ON FUNCTION test_tamper(text) FROM PUBLIC;
"""


@dataclass(frozen=True)
class SuiteRoles:
    """The credentials of the owner (migrations, test database) and of the app role (the tests)."""

    owner: dict[str, Any]
    app: dict[str, Any]


def suite_roles() -> SuiteRoles | None:
    """Both roles when the suite runs on PostgreSQL as an app role with an owner beside it, else None.

    Read from the environment, which the set-up never changes, not from the connection's settings.
    """
    owner, app_url = owner_credentials(), os.environ.get("DATABASE_URL")
    if owner is None or not app_url:
        return None
    app = dj_database_url.parse(app_url)
    if "postgresql" not in app["ENGINE"] or app.get("USER") == owner["USER"]:
        return None
    return SuiteRoles(owner=owner, app={name: app.get(name, "") for name in CREDENTIALS})


def prepare_test_database(database: BaseDatabaseWrapper, app_role: str) -> None:
    """As the owner, right after the migrations: the app role's grants, then the test-only ones."""
    grant_app_role(connection=database, app_role=app_role)
    with database.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = database.ops.quote_name(cursor.fetchone()[0])
        # Test-only: tests/tampering.py plays an attacker with more rights than the app role's; no real
        # database has this function.
        cursor.execute(TAMPER_FUNCTION.replace("{schema}", schema))
        role = database.ops.quote_name(app_role)
        cursor.execute(f"GRANT EXECUTE ON FUNCTION test_tamper(text) TO {role}")
        # Test-only too: setval, for reset_sequences and for tests that renumber between tests.
        cursor.execute(f"GRANT UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")


def flushing_as(owner: dict[str, Any]) -> AbstractContextManager[Any]:
    """While in effect, Django's ``flush`` command (and its ``post_migrate``) runs connected as the owner."""
    handle = FlushCommand.handle

    def handle_as_owner(self: FlushCommand, *args: Any, **options: Any) -> None:
        with connected_as(connections[options["database"]], owner):
            handle(self, *args, **options)

    return mock.patch.object(FlushCommand, "handle", handle_as_owner)


@contextmanager
def as_owner() -> Iterator[None]:
    """Inside the block the default connection is the owner's, when the suite runs as the app role."""
    roles = suite_roles()
    if roles is None:
        yield
        return
    with connected_as(connection, roles.owner):
        yield
