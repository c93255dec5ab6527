"""Per-writer chains: each event links within its writer's ``chain``; PostgreSQL draws ``seq`` from a sequence.

The hash loses its unique index (and PostgreSQL's pattern index beside it): nothing looks
events up by hash, and each index is paid on every append.

Writers no longer share one chain head behind one lock (``audit/append.py``). Events from
before keep an empty chain and their hashes. The sequence starts after the highest seq, so
numbering carries on; the app role may use it (``audit/privileges.py`` grants every sequence).
"""

from django.db import migrations, models

SEQUENCE = "audit_event_seq"


def create_sequence(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint")
    schema_editor.execute(
        f"SELECT setval('{SEQUENCE}', COALESCE(MAX(seq), 0) + 1, false) FROM audit_auditevent", params=None
    )


def drop_sequence(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    """The ``chain`` column and its index, no index on ``hash``, and the seq sequence on PostgreSQL."""

    dependencies = [("audit", "0006_gate_kind_and_held_outcome")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(blank=True, default="", editable=False, max_length=32, verbose_name="chain"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(editable=False, max_length=64, verbose_name="hash"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["chain", "seq"], name="audit_chain_seq"),
        ),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
