"""The whole suite's database set-up: on PostgreSQL with ``MIGRATE_DATABASE_URL`` (make test-postgres),
the owner creates, migrates and drops the test database and the tests connect as the app role.

pytest-django's documented hooks, overridden and still run first; tests/database_roles.py says
why and what the owner does besides. Without the two roles (SQLite, or one PostgreSQL role) both
are pytest-django's own. tests/conftest.py holds the tests' fixtures.
"""

import pytest
from django.db import connection

from audit.privileges import connected_as
from tests.database_roles import flushing_as, prepare_test_database, suite_roles


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """pytest-django's (the xdist and tox suffixes), then the owner's credentials for the set-up."""
    roles = suite_roles()
    if roles is not None:
        connection.close()
        connection.settings_dict.update(roles.owner)
    return django_db_modify_db_settings


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Once pytest-django has made the test database as the owner: grants, then the app role until teardown."""
    roles = suite_roles()
    if roles is None:
        yield django_db_setup
        return
    with django_db_blocker.unblock():
        prepare_test_database(connection, roles.app["USER"])
    # Back to the owner on the way out, so pytest-django drops the database as the role that made it.
    with connected_as(connection, roles.app), flushing_as(roles.owner):
        yield django_db_setup
