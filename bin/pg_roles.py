"""``make pg-roles``: create the project's two PostgreSQL roles, idempotently, for a database to run as.

``catalog_owner`` owns the tables and runs migrations (``MIGRATE_DATABASE_URL``);
``catalog_app`` is what the site, the sync and the commands connect as (``DATABASE_URL``).
Roles are cluster-wide, so the names carry the project's. Run it as a role that may create
roles (``postgres`` on a local server): ``python -m bin.pg_roles [ADMIN_URL] [--database NAME]
[--createdb]`` creates the roles and, with ``--database``, a database owned by ``catalog_owner``.
``--createdb`` lets the owner create databases, which only a test server needs (``make
test-postgres`` runs the suite as the app role, and pytest-django creates its ``test_*``
database as the owner); a production owner does not need it.
"""

import argparse
import sys

import psycopg
from psycopg import sql

OWNER_ROLE = "catalog_owner"
APP_ROLE = "catalog_app"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def ensure_roles(connection: psycopg.Connection) -> None:
    """Create both login roles unless they exist (no passwords: set them, or use trust/peer locally)."""
    for role in (OWNER_ROLE, APP_ROLE):
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))


def allow_owner_to_create_databases(connection: psycopg.Connection) -> None:
    """CREATEDB for the owner (test servers: the suite's owner creates its test databases)."""
    connection.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(OWNER_ROLE)))


def ensure_database(connection: psycopg.Connection, name: str) -> None:
    """A database owned by the owner role, unless one of that name exists."""
    if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        connection.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE))
        )


def main(argv: list[str] | None = None) -> int:
    """Create the roles (and a database), print what to export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=DEFAULT_ADMIN_URL, help="a role that may create roles")
    parser.add_argument("--database", help="also create this database, owned by catalog_owner")
    parser.add_argument("--createdb", action="store_true", help="let catalog_owner create databases (test servers)")
    args = parser.parse_args(argv)
    try:
        with psycopg.connect(args.admin_url, autocommit=True) as connection:
            ensure_roles(connection)
            if args.createdb:
                allow_owner_to_create_databases(connection)
            if args.database:
                ensure_database(connection, args.database)
    except psycopg.Error as error:
        print(f"pg-roles: {error}".strip(), file=sys.stderr)
        return 1
    createdb = f" ({OWNER_ROLE} may create databases)" if args.createdb else ""
    print(
        f"roles {OWNER_ROLE} and {APP_ROLE} are ready{createdb}"
        + (f", database {args.database}" if args.database else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
