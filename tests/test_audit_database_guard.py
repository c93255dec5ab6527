"""On PostgreSQL the database itself refuses to rewrite audit history; only audit_prune may delete."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record_event
from tests.database_roles import suite_roles

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the trigger is PostgreSQL's; on SQLite the hash chain catches it"
    ),
]


def raw(statement: str) -> None:
    """Run raw SQL as the application's database user (triggers on)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def refusal(operation: str) -> str:
    """Why the database refuses: the app role (make test-postgres) lacks the privilege; a role that
    has it (a superuser running the suite) meets the trigger, which test_audit_privileges tries on the owner."""
    if suite_roles() is not None:
        return "permission denied for table audit_auditevent"
    return f"audit events are append-only: {operation} refused"


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE audit_auditevent SET message = 'edited' WHERE seq = 1", "UPDATE"),
        ("DELETE FROM audit_auditevent WHERE seq = 1", "DELETE"),
    ],
)
def test_raw_sql_cannot_rewrite_history(statement, operation):
    record_event(kind="fetch", outcome="ok")

    with pytest.raises(DatabaseError, match=refusal(operation)):
        raw(statement)
    assert AuditEvent.objects.get().message == ""


def test_audit_prune_may_delete_old_events(mocker):
    for _ in range(3):
        record_event(kind="fetch", outcome="ok")
    mocker.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=30))

    call_command("audit_prune", "--older-than", "7", stdout=mocker.MagicMock())

    assert list(AuditEvent.objects.values_list("kind", flat=True)) == ["checkpoint"]


def test_the_old_session_setting_no_longer_lets_a_delete_through():
    record_event(kind="fetch", outcome="ok")

    def delete_with_the_old_flag() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL audit.allow_prune = 'on'")
            cursor.execute("DELETE FROM audit_auditevent")

    with pytest.raises(DatabaseError, match=refusal("DELETE")):
        delete_with_the_old_flag()
    assert AuditEvent.objects.count() == 1


def test_the_prune_function_refuses_events_no_checkpoint_covers():
    record_event(kind="fetch", outcome="ok")

    with pytest.raises(DatabaseError, match="no prune checkpoint covers event #1"):
        raw("SELECT audit_prune(1, 1)")
