"""Product indexes each database spells its own way, created and repaired in one place.

- Search over ``catalog_product.search_text`` (catalog/search.py): on PostgreSQL the ``pg_trgm``
  extension and a GIN trigram index, which serves ``LIKE '%term%'``; on SQLite an FTS5 table with
  the ``trigram`` tokenizer over the same column, kept in step by triggers, so every write (sync,
  read-through, admin, raw SQL) keeps it right.
- The "newest" sort (catalog/keyset.py): dates descending with undated products last, which
  PostgreSQL must be told (``NULLS LAST``) and SQLite does by itself (and cannot be told in an index).

Migration 0005 creates them; ``ensure_vendor_indexes`` runs again after every ``migrate``, because
SQLite rebuilds a table for some schema changes and drops its triggers with the old copy.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

SQLITE_TABLE = "catalog_product_search"
NEWEST_INDEX = "product_published_newest"
POSTGRESQL_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS product_search_trigram ON catalog_product USING gin (search_text gin_trgm_ops)",
    (
        f"CREATE INDEX IF NOT EXISTS {NEWEST_INDEX} ON catalog_product "
        "(source_created_at DESC NULLS LAST, id DESC) WHERE is_published"
    ),
]
SQLITE_CREATE = [
    (
        f"CREATE INDEX IF NOT EXISTS {NEWEST_INDEX} ON catalog_product "
        "(source_created_at DESC, id DESC) WHERE is_published"
    ),
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS product_search_trigram", f"DROP INDEX IF EXISTS {NEWEST_INDEX}"]
SQLITE_TRIGGERS = {
    "catalog_product_search_insert": f"""AFTER INSERT ON catalog_product BEGIN
        INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    "catalog_product_search_delete": f"""AFTER DELETE ON catalog_product BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    END""",
    "catalog_product_search_update": f"""AFTER UPDATE OF id, search_text ON catalog_product BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
}


def sqlite_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the search triggers that exist."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'catalog_product'")
        return {name for (name,) in cursor.fetchall()} & set(SQLITE_TRIGGERS)


def ensure_sqlite_indexes(connection: BaseDatabaseWrapper) -> bool:
    """Create whatever is missing, refilling the FTS5 index then; True if the search index was repaired."""
    with connection.cursor() as cursor:
        for statement in SQLITE_CREATE:
            cursor.execute(statement)
    if len(sqlite_triggers(connection)) == len(SQLITE_TRIGGERS):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5("
            "search_text, content='catalog_product', content_rowid='id', tokenize='trigram')"
        )
        for name, body in SQLITE_TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        # Rows written while a trigger was missing are not in the index: read them all again.
        cursor.execute(f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')")
    return True


def ensure_vendor_indexes(connection: BaseDatabaseWrapper) -> bool:
    """Create this database's own indexes where missing; True if the search index had to be repaired."""
    if "catalog_product" not in connection.introspection.table_names():
        return False  # migrated back before the catalog: nothing to index
    if connection.vendor == "sqlite":
        return ensure_sqlite_indexes(connection)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement in POSTGRESQL_CREATE:
                cursor.execute(statement)
    return False


def drop_vendor_indexes(connection: BaseDatabaseWrapper) -> None:
    """Remove them all (migration 0005 backwards)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
            cursor.execute(f"DROP INDEX IF EXISTS {NEWEST_INDEX}")
        elif connection.vendor == "postgresql":
            for statement in POSTGRESQL_DROP:
                cursor.execute(statement)
