"""``manage.py migrate`` as the database's owner when ``MIGRATE_DATABASE_URL`` is set, then grants for the app role.

The app connects with ``DATABASE_URL``, a role that must not own the audit table (an owner
can disable its triggers). Migrations create and alter tables, so they run as the owner
named by ``MIGRATE_DATABASE_URL`` (same database; its name in that URL is not used), and
then the app role gets SELECT, INSERT, UPDATE and DELETE on the catalog's tables, SELECT and
INSERT only on the audit table, and EXECUTE on ``audit_prune``. Without the variable this is
Django's ``migrate``, unchanged.
"""

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections

from audit.privileges import OWNER_URL_ENV, connected_as, grant_app_role, owner_credentials


class Command(DjangoMigrateCommand):
    """Django's migrate, connected as the owner, followed by the app role's grants."""

    help = DjangoMigrateCommand.help + f" With {OWNER_URL_ENV} set, runs as that owner and grants the app role."

    def handle(self, *args: Any, **options: Any) -> None:
        owner = owner_credentials()
        if owner is None:
            super().handle(*args, **options)
            return
        connection = connections[options["database"]]
        app_role = connection.settings_dict.get("USER")
        with connected_as(connection, owner):
            super().handle(*args, **options)
            if connection.vendor == "postgresql" and app_role and app_role != owner["USER"]:
                grant_app_role(connection=connection, app_role=app_role)
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Granted the app role {app_role} its privileges (audit: SELECT, INSERT).")
