"""On PostgreSQL, refuse UPDATE and DELETE of audit events in the database itself.

Only ``audit_prune`` may delete, and it says so with ``SET LOCAL audit.allow_prune = 'on'``
inside its transaction. Even raw SQL cannot rewrite history without turning triggers
off, which takes a superuser; the hash chain catches that case (and SQLite, which has
no such trigger here).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.allow_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def on_postgresql(sql: str):
    """A migration step that runs ``sql`` on PostgreSQL and does nothing elsewhere."""

    def run(apps, schema_editor):  # pylint: disable=unused-argument
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % in RAISE is not a placeholder

    return run


class Migration(migrations.Migration):
    """Install the append-only trigger."""

    dependencies = [("audit", "0002_scale_indexes_and_kinds")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
