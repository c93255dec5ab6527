"""``manage.py audit_keys``: create the audit signing key, or print its public key for auditors."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.signing import KeyUnavailable, create_signing_key, key_id, load_signing_key, public_pem


class Command(BaseCommand):
    """Print the configured key's id and public PEM; ``--create FILE`` makes a new key (mode 600)."""

    help = "Print the audit signing key's public key (PEM) and key id, or create a new signing key with --create FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--create", type=Path, metavar="FILE", help="write a new Ed25519 signing key to FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["create"]:
                key = create_signing_key(options["create"])
                self.stderr.write(f"created {options['create']} (mode 600); set AUDIT_SIGNING_KEY_FILE to it")
            else:
                key = load_signing_key()
        except FileExistsError as error:
            raise CommandError(f"{options['create']} exists already; a signing key is never replaced") from error
        except (KeyUnavailable, OSError) as error:
            raise CommandError(str(error), returncode=2) from error
        public = key.public_key()
        self.stderr.write(f"key id {key_id(public)}")
        self.stdout.write(public_pem(public), ending="")
