"""``manage.py verify_audit``: check the database against the signed anchors, or an export against its manifest.

Exit 0 when intact; 1 naming the first event (or line) that disagrees; 2 on bad usage, or
when the anchor store or a key is missing or unreadable.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.anchor_set import AnchorForged
from audit.anchor_store import AnchorStoreUnavailable
from audit.manifest import manifest_signature_problem, verify_export
from audit.signing import KeyUnavailable, key_id, load_public_key, verify_keys
from audit.verification import describe, timed_verification

USAGE_ERROR = 2


class Command(BaseCommand):
    """Exit 0 with the count and head hash when intact, exit 1 naming the first broken event or line."""

    help = (
        "Verify the audit log against its signed anchors, or (--export F --manifest M [--public-key K]) "
        "an export against its signed manifest, offline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--record", action="store_true", help="also record the result as a `verify` event (the dashboard shows it)"
        )
        parser.add_argument("--export", type=Path, help="verify this JSON lines export instead of the database")
        parser.add_argument("--manifest", type=Path, help="the signed manifest audit_export wrote with the export")
        parser.add_argument(
            "--public-key",
            type=Path,
            help="the PEM public key to check the manifest with (default: the configured keys)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"] or options["manifest"] or options["public_key"]:
            self._verify_export(options["export"], options["manifest"], options["public_key"])
            return
        try:
            report, start = timed_verification(record=options["record"])
        except (AnchorStoreUnavailable, KeyUnavailable) as error:
            raise CommandError(f"cannot verify: {error}", returncode=USAGE_ERROR) from error
        except AnchorForged as error:
            raise CommandError(f"audit anchors tampered with: {error}", returncode=1) from error
        if not report.intact:
            raise CommandError(describe(report, start), returncode=1)
        self.stdout.write(describe(report, start))

    def _verify_export(self, export: Path | None, manifest_path: Path | None, public_key: Path | None) -> None:
        if export is None or manifest_path is None:
            raise CommandError("--export and --manifest go together", returncode=USAGE_ERROR)
        try:
            if public_key is not None:
                key = load_public_key(public_key)
                keys = {key_id(key): key}
            else:
                keys = verify_keys()
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError(f"{manifest_path} is not a JSON object")
            problem = manifest_signature_problem(manifest, keys)
            check = None if problem else verify_export(export, manifest)
        except KeyUnavailable as error:
            raise CommandError(f"cannot verify: {error}", returncode=USAGE_ERROR) from error
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the export or its manifest: {error}", returncode=USAGE_ERROR) from error
        if check is None or not check.intact:
            reason = problem or (check.problem if check is not None else "")
            raise CommandError(f"export does not match its manifest: {reason}", returncode=1)
        self.stdout.write(
            f"export intact: {check.count} events, #{manifest['first_seq']} to #{manifest['last_seq']}, "
            f"head {manifest['head_hash']}, sha256 {manifest['sha256']}, signed by key {manifest['key_id']}"
        )
