"""Rewrite audit rows behind the application's back, as an attacker with database access would."""

from django.db import connection, transaction

from tests.database_roles import suite_roles


def tamper(statement: str, params=()) -> None:
    """Run raw SQL on the audit table, on PostgreSQL with its triggers off, as the app role cannot.

    When the suite runs as the app role, through the test database's ``test_tamper`` (the owner's,
    see tests/database_roles.py); when it runs as a superuser, with ``session_replication_role``.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(statement, params)
        elif suite_roles() is not None:
            cursor.execute("SELECT test_tamper(%s)", [connection.ops.compose_sql(statement, params)])
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(statement, params)
