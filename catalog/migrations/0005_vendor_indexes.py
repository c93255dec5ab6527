"""Indexes each database spells its own way: trigram search, newest first (catalog/vendor_indexes.py)."""

from django.db import migrations

from catalog.vendor_indexes import drop_vendor_indexes, ensure_vendor_indexes


def create(apps, schema_editor):  # pylint: disable=unused-argument
    ensure_vendor_indexes(schema_editor.connection)


def drop(apps, schema_editor):  # pylint: disable=unused-argument
    drop_vendor_indexes(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0004_list_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
