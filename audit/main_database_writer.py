"""Write test-run events to the main database through a connection of their own.

pytest-django points the default connection at a throw-away test database, so the
recorder copies the main database's settings before that happens (or reads
``AUDIT_TEST_RUNS_DATABASE_URL``) and opens them under a temporary alias for each write.
"""

import copy
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.db import DEFAULT_DB_ALIAS, connections

from .databases import temporary_alias
from .models import AuditEvent, Kind
from .services import record_event

DATABASE_URL_ENV = "AUDIT_TEST_RUNS_DATABASE_URL"
ALIAS = "audit_test_runs"
ACTOR = "command:pytest"
# An unreachable server should cost a test run seconds, not minutes.
CONNECT_TIMEOUT_SECONDS = 5


class MainDatabaseUnavailable(Exception):
    """The main database cannot take the event: missing, unreachable or not migrated."""


def main_database_settings() -> dict[str, Any]:
    """The database test runs are recorded in: ``AUDIT_TEST_RUNS_DATABASE_URL``, else the default one.

    Call it before pytest-django swaps the default database for the test database.
    """
    url = os.environ.get(DATABASE_URL_ENV)
    settings_dict: dict[str, Any] = (
        dict(dj_database_url.parse(url)) if url else copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    )
    if "postgresql" in settings_dict["ENGINE"]:
        settings_dict.setdefault("OPTIONS", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    return settings_dict


def database_label(settings_dict: dict[str, Any]) -> str:
    """The database's name for messages; never its password."""
    host = settings_dict.get("HOST")
    return f"{settings_dict.get('NAME')} on {host}" if host else str(settings_dict.get("NAME"))


def _check_ready(settings_dict: dict[str, Any], alias: str) -> None:
    # SQLite would quietly create a missing file; a typo must not grow a new, empty database.
    if "sqlite3" in settings_dict["ENGINE"] and not Path(settings_dict["NAME"]).is_file():
        raise MainDatabaseUnavailable(f"the database file {settings_dict['NAME']} does not exist")
    if AuditEvent._meta.db_table not in connections[alias].introspection.table_names():
        raise MainDatabaseUnavailable("the audit table is missing: run `python manage.py migrate`")


def record_test_run_event(settings_dict: dict[str, Any], **fields: Any) -> AuditEvent:
    """Append one ``test_run`` event to the chain in the database ``settings_dict`` describes."""
    with temporary_alias(settings_dict, ALIAS) as alias:
        _check_ready(settings_dict, alias)
        return record_event(kind=Kind.TEST_RUN, actor=ACTOR, using=alias, **fields)
