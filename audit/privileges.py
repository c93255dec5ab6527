"""PostgreSQL privileges for the app role: everything it needs, and on the audit table only SELECT and INSERT.

``manage.py migrate`` calls this when it runs as the owner (``MIGRATE_DATABASE_URL``) for an
app role (``DATABASE_URL``) that is a different role. The app role then cannot update,
delete, truncate or disable triggers on audit events; it prunes through ``audit_prune``.
``connected_as`` is how a connection briefly becomes the owner's (migrate, and the test
suite's set-up, which creates and migrates its database as the owner).
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dj_database_url
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import AuditEvent

AUDIT_TABLE = AuditEvent._meta.db_table
PRUNE_FUNCTION = "audit_prune(bigint, bigint)"
OWNER_URL_ENV = "MIGRATE_DATABASE_URL"
# What a role's connection differs by; the database's name is the app's, whatever the owner's URL says.
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def grant_statements(
    *, tables: list[str], app_role: str, quote: Callable[[str], str], schema: str = "public"
) -> list[str]:
    """The GRANT and REVOKE statements that give ``app_role`` its privileges, in order."""
    role, schema = quote(app_role), quote(schema)
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role}"]
    for table in sorted(tables):
        if table == AUDIT_TABLE:
            statements += [
                f"REVOKE ALL ON {quote(table)} FROM {role}",
                f"GRANT SELECT, INSERT ON {quote(table)} TO {role}",
            ]
        else:
            statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote(table)} TO {role}")
    statements += [
        # Every sequence there is after the migrations, so those a later migration adds are covered too.
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"GRANT EXECUTE ON FUNCTION {PRUNE_FUNCTION} TO {role}",
    ]
    return statements


def grant_app_role(*, connection: BaseDatabaseWrapper, app_role: str) -> list[str]:
    """Grant the app role what it needs on every table of the database; the statements run."""
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        statements = grant_statements(tables=tables, app_role=app_role, quote=connection.ops.quote_name, schema=schema)
        for statement in statements:
            cursor.execute(statement)
    return statements


def owner_credentials() -> dict[str, Any] | None:
    """The owner's credentials from ``MIGRATE_DATABASE_URL``, or None when it is not set."""
    owner_url = os.environ.get(OWNER_URL_ENV)
    if not owner_url:
        return None
    owner = dj_database_url.parse(owner_url)
    return {name: owner.get(name, "") for name in CREDENTIALS}


def credentials(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """The credentials ``connection`` connects with."""
    return {name: connection.settings_dict.get(name) for name in CREDENTIALS}


@contextmanager
def connected_as(connection: BaseDatabaseWrapper, role_credentials: dict[str, Any]) -> Iterator[None]:
    """Inside the block ``connection`` connects with ``role_credentials``, to the same database; then with its own.

    The connection is closed on the way in and out, so no session of one role serves the other.
    """
    own = credentials(connection)
    connection.close()
    connection.settings_dict.update(role_credentials)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(own)
