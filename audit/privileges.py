"""PostgreSQL privileges for the app role: everything it needs, and on the audit table only SELECT and INSERT.

``manage.py migrate`` calls this when it runs as the owner (``MIGRATE_DATABASE_URL``) for an
app role (``DATABASE_URL``) that is a different role. The app role then cannot update,
delete, truncate or disable triggers on audit events; it prunes through ``audit_prune``.
"""

from collections.abc import Callable

from django.db.backends.base.base import BaseDatabaseWrapper

from .models import AuditEvent

AUDIT_TABLE = AuditEvent._meta.db_table
PRUNE_FUNCTION = "audit_prune(bigint, bigint)"


def grant_statements(*, tables: list[str], app_role: str, quote: Callable[[str], str]) -> list[str]:
    """The GRANT and REVOKE statements that give ``app_role`` its privileges, in order."""
    role = quote(app_role)
    statements = [f"GRANT USAGE ON SCHEMA {quote('public')} TO {role}"]
    for table in sorted(tables):
        if table == AUDIT_TABLE:
            statements += [
                f"REVOKE ALL ON {quote(table)} FROM {role}",
                f"GRANT SELECT, INSERT ON {quote(table)} TO {role}",
            ]
        else:
            statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote(table)} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote('public')} TO {role}",
        f"GRANT EXECUTE ON FUNCTION {PRUNE_FUNCTION} TO {role}",
    ]
    return statements


def grant_app_role(*, connection: BaseDatabaseWrapper, app_role: str) -> list[str]:
    """Grant the app role what it needs on every table of the database; the statements run."""
    tables = connection.introspection.table_names()
    statements = grant_statements(tables=tables, app_role=app_role, quote=connection.ops.quote_name)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements
