"""Rewrite audit rows behind the application's back, as an attacker with database access would."""

from django.db import connection, transaction


def tamper(statement: str, params=()) -> None:
    """Run raw SQL on the audit table; on PostgreSQL with triggers off, as only a superuser can."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params)
