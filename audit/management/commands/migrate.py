"""``manage.py migrate`` as the database's owner when ``MIGRATE_DATABASE_URL`` is set, then grants for the app role.

The app connects with ``DATABASE_URL``, a role that must not own the audit table (an owner
can disable its triggers). Migrations create and alter tables, so they run as the owner
named by ``MIGRATE_DATABASE_URL`` (same database; its name in that URL is not used), and
then the app role gets SELECT, INSERT, UPDATE and DELETE on the catalog's tables, SELECT and
INSERT only on the audit table, and EXECUTE on ``audit_prune``. Without the variable this is
Django's ``migrate``, unchanged.
"""

import os
from typing import Any

import dj_database_url
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections

from audit.privileges import grant_app_role

OWNER_URL_ENV = "MIGRATE_DATABASE_URL"
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(DjangoMigrateCommand):
    """Django's migrate, connected as the owner, followed by the app role's grants."""

    help = DjangoMigrateCommand.help + f" With {OWNER_URL_ENV} set, runs as that owner and grants the app role."

    def handle(self, *args: Any, **options: Any) -> None:
        owner_url = os.environ.get(OWNER_URL_ENV)
        if not owner_url:
            super().handle(*args, **options)
            return
        connection = connections[options["database"]]
        app_settings = {name: connection.settings_dict.get(name) for name in CREDENTIALS}
        owner = dj_database_url.parse(owner_url)
        connection.close()
        connection.settings_dict.update({name: owner.get(name, "") for name in CREDENTIALS})
        try:
            super().handle(*args, **options)
            if connection.vendor == "postgresql" and app_settings["USER"] and app_settings["USER"] != owner.get("USER"):
                grant_app_role(connection=connection, app_role=app_settings["USER"])
                if options["verbosity"] >= 1:
                    self.stdout.write(
                        f"Granted the app role {app_settings['USER']} its privileges (audit: SELECT, INSERT)."
                    )
        finally:
            connection.close()
            connection.settings_dict.update(app_settings)
