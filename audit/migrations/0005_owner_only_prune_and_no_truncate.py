"""On PostgreSQL: refuse TRUNCATE too, and let only the owner's ``audit_prune`` function delete.

The old rule let a DELETE through in any transaction that ran ``SET LOCAL audit.allow_prune``,
a setting every role can set. Now a DELETE passes the trigger only inside ``audit_prune(first,
last)``: a SECURITY DEFINER function, owned by the table's owner, that deletes only events a
prune checkpoint covers. The app role has SELECT and INSERT on the table and EXECUTE on the
function, nothing else (``audit/privileges.py``), so it cannot delete, update, truncate or
disable the triggers, whatever it sets. A table owner can always disable its own triggers:
that is why the app must not be the owner, and why the signed anchors exist.

Test databases (Django names them ``test_*``) may be truncated, as Django's flush between
transactional tests does; no production database has such a name.
"""

from django.db import migrations

TRIGGER_FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('audit.prune_in_progress', true) = 'on'
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

CREATE = (
    TRIGGER_FUNCTION
    + r"""
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

CREATE OR REPLACE FUNCTION audit_prune(first_seq bigint, last_seq bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    deleted bigint;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_auditevent
        WHERE kind = 'checkpoint' AND (details ->> 'pruned_through_seq')::bigint >= last_seq
    ) THEN
        RAISE EXCEPTION 'no prune checkpoint covers event #%', last_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('audit.prune_in_progress', 'on', true);
    DELETE FROM audit_auditevent WHERE seq BETWEEN first_seq AND last_seq;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('audit.prune_in_progress', 'off', true);
    RETURN deleted;
END;
$$;

REVOKE ALL ON FUNCTION audit_prune(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON audit_auditevent FROM PUBLIC;
"""
)

# Back to 0003's rule.
DROP = r"""
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_prune(bigint, bigint);
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.allow_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _run(sql: str):
    def run(apps, schema_editor):  # pylint: disable=unused-argument
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
        schema_editor.execute(sql.replace("{schema}", schema), params=None)  # None: % is not a placeholder

    return run


class Migration(migrations.Migration):
    """Owner-only pruning through a SECURITY DEFINER function; TRUNCATE refused."""

    dependencies = [("audit", "0004_login_kind")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
